"""aiosqlite connections that cross to their thread once per statement, not four times.

aiosqlite runs every call of a connection in that connection's own thread, and SQLAlchemy's
adapter makes four such calls for each statement: create a cursor, execute, fetch the rows, close
the cursor. Each call is a hand-off to the thread and a wake-up of the event loop to read its
answer, and the loop runs each wake-up only after the callbacks already waiting in its queue. A
group commit of the submit path runs about fifteen statements (``BEGIN IMMEDIATE``, the directory
version, a SAVEPOINT, the envelopes, deliveries, mailbox, audit records, log nodes and state,
``COMMIT``...), so about sixty turns of a busy loop (bench/README.md, "where the tail comes from").

Here a statement is one hand-off: the cursor is made on the spot (it is a plain object; the
connection is opened with ``check_same_thread=False``, as SQLAlchemy opens it), the thread
executes the statement and fetches all its rows in the same call, and the cursor is closed by a
call queued without waiting for its answer (the thread runs it before the next statement of the
connection, in order). The statements, their order, the transactions and the PRAGMAs are exactly
those of plain aiosqlite; only the number of hand-offs changes.

Rows are fetched with the statement, so a server-side cursor (``stream_results``, which the hub
does not use) would hold its whole result in memory instead of reading it in chunks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager

ITER_CHUNK_SIZE = 64  # aiosqlite's default
T = TypeVar("T")


def _execute_and_fetch(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any] | None:
    cursor.execute(sql, parameters)
    return cursor.fetchall() if cursor.description is not None else None


class Cursor(aiosqlite.Cursor):
    """An aiosqlite cursor whose ``execute`` also fetches the rows (one hand-off)."""

    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        rows = await self._conn._execute(  # type: ignore[no-untyped-call]
            _execute_and_fetch, self._cursor, sql, [] if parameters is None else parameters
        )
        self._rows = rows or []
        return self

    async def fetchone(self) -> Any | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self._cursor.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        # Queued without a future: no answer to wait for, and the connection's thread runs it
        # before anything queued after it.
        self._rows = []
        self._conn._tx.put_nowait((None, self._cursor.close))


class Connection(aiosqlite.Connection):
    """An aiosqlite connection that makes :class:`Cursor` cursors without a hand-off."""

    @contextmanager
    async def cursor(self) -> Cursor:  # type: ignore[override]  # a subclass of its cursor
        return Cursor(self, self._conn.cursor())

    async def rollback(self) -> None:
        """No trip to the thread when no transaction is open: the pool rolls back every
        connection handed back to it, most often just after a commit or a rollback."""
        if self._conn.in_transaction:
            await super().rollback()

    async def run_in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """``function(sqlite3_connection, *args)`` run in the connection's thread, in one hand-off
        (:mod:`hub.storage.batch` runs a whole group commit so)."""
        result: T = await self._execute(function, self._conn, *args)  # type: ignore[no-untyped-call]
        return result


async def connect(database: str) -> Connection:
    """Open ``database`` the way SQLAlchemy's aiosqlite dialect opens a file database
    (``check_same_thread=False``); for ``create_async_engine(async_creator=...)``."""
    connection = Connection(
        partial(sqlite3.connect, database, check_same_thread=False), ITER_CHUNK_SIZE
    )
    connection._thread.daemon = True  # as SQLAlchemy sets it: never holds up the exit
    await connection
    return connection
