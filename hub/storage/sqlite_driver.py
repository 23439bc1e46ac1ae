"""aiosqlite connections that cross to their thread once per statement, not four times.

aiosqlite runs every call of a connection in that connection's own thread, and SQLAlchemy's
adapter makes four such calls for each statement: create a cursor, execute, fetch the rows, close
the cursor. Each call is a hand-off to the thread and a wake-up of the event loop to read its
answer, and the loop runs each wake-up only after the callbacks already waiting in its queue. A
group commit of the submit path runs about fifteen statements (``BEGIN IMMEDIATE``, the directory
version, a SAVEPOINT, the envelopes, deliveries, mailbox, audit records, log nodes and state,
``COMMIT``...), so about sixty turns of a busy loop (bench/README.md, "where the tail comes from").

Here a statement is one hand-off: the cursor is made on the spot (it is a plain object; the
connection is opened with ``check_same_thread=False``, as SQLAlchemy opens it), and the thread
executes the statement, fetches all its rows and closes the cursor in the same call (a closed
sqlite3 cursor keeps its ``description``, ``rowcount`` and ``lastrowid``). Two more hand-offs of
every transaction are saved:

* ``BEGIN`` and ``BEGIN IMMEDIATE`` (which the engine emits, :mod:`hub.storage.engine`) are held
  back until the transaction's first statement, so the write lock is still taken before that
  statement runs. A transaction that ends before any statement ran nothing. A deferred ``BEGIN``
  goes in the same call as that statement. ``BEGIN IMMEDIATE`` is run on the event loop just
  before it (:meth:`Connection.begin_waiting`), when nothing is queued for the thread: while
  another connection holds the write lock it is tried again every few milliseconds, the loop
  free in between, instead of waiting in the thread in SQLite's busy handler, whose sleeps grow
  to 100 ms while the other writer takes the lock again and again (bench/README.md, issue 17).
* The rollback that ends a read transaction (a deferred ``BEGIN``: the engine's read-only view)
  is queued without waiting for its answer, like a cursor's close used to be: the thread runs it
  before anything queued after it, so the next user of the connection, which the pool may hand
  out at once, finds it out of its transaction. A read transaction has nothing to undo, and an
  error in ending it could not be answered usefully anyway. A write transaction's rollback and
  every commit are still waited for: a commit's answer is the durability the hub acknowledges.

So a read of one statement (checkout, ``BEGIN``, ``SELECT``, rollback) is one hand-off where it
was five, and a write transaction saves two. The statements, their order, the transactions and the
PRAGMAs are exactly those of plain aiosqlite; only the number of hand-offs changes.

Rows are fetched with the statement, so a server-side cursor (``stream_results``, which the hub
does not use) would hold its whole result in memory instead of reading it in chunks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, Final, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager

ITER_CHUNK_SIZE = 64  # aiosqlite's default
THREAD_STOP_SECONDS = 5.0  # a failed connection's thread has nothing to close: it ends at once
T = TypeVar("T")

# The statements that open a transaction, as the engine emits them: held back (see the module docs).
_DEFERRED: Final = "BEGIN"  # the read-only view's: nothing to undo, its end is not waited for
IMMEDIATE: Final = "BEGIN IMMEDIATE"  # every writing transaction's (hub.storage.engine)
_BEGINS: Final = frozenset({_DEFERRED, IMMEDIATE})

#: How often a ``BEGIN IMMEDIATE`` that found the write lock taken tries again (seconds, doubling
#: from the first to the last). SQLite's own busy handler sleeps 1, 2, 5 ... and then 100 ms between
#: tries, and another writer takes the lock back meanwhile, again and again: against one that held
#: it 20 ms at a time, small transactions waited p99 181-231 ms (max 631-1,332) that way, 41-44 ms
#: (max 44-66) retrying so, for 0.3-0.5 ms more of the loop's CPU each transaction that found the
#: lock taken (``bench/begin_wait.py``).
BEGIN_RETRY_SECONDS: Final = (0.0005, 0.002)


class _Outcome:
    """What SQLAlchemy reads of a statement besides its rows, captured in the thread."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, rows: list[Any] | None) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.rows = rows or []


def _run(
    db: sqlite3.Connection, begin: str | None, sql: str, parameters: Any, many: bool
) -> _Outcome:
    """In the connection's thread: the held-back BEGIN, the statement, its rows; cursor closed."""
    if begin is not None:
        db.execute(begin)
    cursor = db.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description is not None else None
        return _Outcome(cursor, rows)
    finally:
        cursor.close()


def _after_begin(
    db: sqlite3.Connection, begin: str | None, function: Callable[..., T], args: tuple[Any, ...]
) -> T:
    if begin is not None:
        db.execute(begin)
    return function(db, *args)


class Cursor(aiosqlite.Cursor):
    """An aiosqlite cursor whose ``execute`` runs, fetches and closes in one hand-off."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn, None)  # type: ignore[arg-type]  # the sqlite3 cursor lives in _run
        self._owner = conn
        self._rows: list[Any] = []
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1  # sqlite3's default: fetchmany() without a size takes one row

    async def _statement(self, sql: str, parameters: Any, *, many: bool) -> Cursor:
        conn = self._owner
        if not many and sql in _BEGINS and not parameters:
            conn.hold_begin(sql)
            self._rows, self._description, self._rowcount = [], None, -1
            return self
        await conn.begin_held_on_loop()
        outcome: _Outcome = await conn._execute(  # type: ignore[no-untyped-call]
            _run, conn._conn, conn.take_begin(), sql, parameters, many
        )
        self._rows = outcome.rows
        self._description = outcome.description
        self._rowcount = outcome.rowcount
        self._lastrowid = outcome.lastrowid
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        return await self._statement(sql, [] if parameters is None else parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        return await self._statement(sql, parameters, many=True)

    async def fetchone(self) -> Any | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []  # the sqlite3 cursor was closed in the thread, with its statement

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value


class Connection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors take one hand-off per statement, and whose
    transactions begin with their first statement (see the module docs)."""

    def __init__(self, connector: Any, iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._held_begin: str | None = None  # a BEGIN not yet sent
        self._begun: str | None = None  # the BEGIN of the transaction that is open, if any
        # Read transactions' rollbacks queued without waiting (written by the loop), and those the
        # thread has run (written by the thread): each counter has one writer, so no lock.
        self._queued_ends = 0
        self._ran_ends = 0

    def hold_begin(self, sql: str) -> None:
        # Sent with the next statement: SQLite itself refuses it there if a transaction is open.
        self._held_begin = sql

    def take_begin(self) -> str | None:
        """The held-back BEGIN, to send with the statement now going to the thread."""
        begin, self._held_begin = self._held_begin, None
        if begin is not None:
            self._begun = begin
        return begin

    async def begin_held_on_loop(self) -> None:
        """A held-back ``BEGIN IMMEDIATE``, run now on the event loop (:meth:`begin_waiting`) if
        nothing is queued for the thread; else (or for a deferred ``BEGIN``) it stays held, for
        the thread to run with the next statement."""
        if self._held_begin == IMMEDIATE and self._ran_ends == self._queued_ends:
            self._held_begin = None
            try:
                await self.begin_waiting()
            except BaseException:
                if self._conn.in_transaction:  # begun after all: its end rolls it back
                    self._begun = IMMEDIATE
                else:  # nothing begun: the transaction may still end, with nothing to undo
                    self._held_begin = IMMEDIATE
                raise
            self._begun = IMMEDIATE

    def _try_begin(self, before: Callable[[str], None] | None, *, or_raise: bool = False) -> bool:
        """One ``BEGIN IMMEDIATE`` (the busy timeout is 0 meanwhile, see :meth:`begin_waiting`):
        True if it took the write lock; False if another connection holds it, or with
        ``or_raise`` SQLite's "database is locked"."""
        if before is not None:
            before(IMMEDIATE)
        try:
            self._conn.execute(IMMEDIATE)
        except sqlite3.OperationalError as error:
            if or_raise or error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            return False
        return True

    async def begin_waiting(self, *, before: Callable[[str], None] | None = None) -> None:
        """``BEGIN IMMEDIATE`` on the event loop once the write lock is free: at once if it is,
        else tried again every 0.5-2 ms (an ``asyncio`` sleep in between: nobody waits for it)
        for as long as the connection's busy timeout, then once more, and SQLite's "database is
        locked" raised if that fails too (a 503, as a busy timeout in the thread was). The busy
        timeout is 0 while it waits, so that no try blocks the loop, and restored after (a try
        costs one statement). ``before(sql)`` is called before each try (the group commit tells
        SQLAlchemy's statement listeners). Only while :attr:`at_rest`."""
        db: sqlite3.Connection = self._conn
        waits = db.execute("PRAGMA busy_timeout").fetchone()[0]
        db.execute("PRAGMA busy_timeout=0")
        try:
            if self._try_begin(before):
                return
            loop = asyncio.get_running_loop()
            deadline = loop.time() + waits / 1000
            delay, longest = BEGIN_RETRY_SECONDS
            while loop.time() < deadline:
                await asyncio.sleep(delay)
                delay = min(2 * delay, longest)
                if self._try_begin(before):
                    return
            self._try_begin(before, or_raise=True)
        finally:
            db.execute(f"PRAGMA busy_timeout={int(waits)}")

    @contextmanager
    async def cursor(self) -> Cursor:  # type: ignore[override]  # a subclass of its cursor
        return Cursor(self)

    async def commit(self) -> None:
        if self._held_begin is not None:  # nothing was run in the transaction: nothing to commit
            self._held_begin = None
            return
        self._begun = None
        await super().commit()

    async def rollback(self) -> None:
        if self._held_begin is not None:
            self._held_begin = None
            return
        begun, self._begun = self._begun, None
        if begun == _DEFERRED:
            # Queued without a future: the thread runs it before anything queued after it.
            self._queued_ends += 1
            self._tx.put_nowait((None, self._end_read))
        elif begun is not None or self._conn.in_transaction:
            await super().rollback()
        # else no transaction is open (the pool rolls back every connection handed back to it,
        # most often just after a commit): no trip to the thread

    def _end_read(self) -> None:
        """In the thread: the rollback that ends a read transaction (queued, not waited for)."""
        try:
            self._conn.rollback()
        finally:
            self._ran_ends += 1

    @property
    def at_rest(self) -> bool:
        """Nothing is queued for the connection's thread or running there, and no BEGIN is held.

        For the connection's current user, who waits for each of its own calls: only the
        rollbacks of read transactions (the previous user's) are queued without waiting. When
        this is true, the ``sqlite3`` connection (:attr:`sqlite3_connection`) may be used
        directly from the event loop until the next call handed to the thread."""
        return self._held_begin is None and self._ran_ends == self._queued_ends

    @property
    def sqlite3_connection(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection itself: only while :attr:`at_rest`, or in the thread."""
        connection: sqlite3.Connection = self._conn
        return connection

    async def run_in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """``function(sqlite3_connection, *args)`` run in the connection's thread, in one hand-off
        (:mod:`hub.storage.batch` runs a whole group commit so); a BEGIN held back for the
        transaction goes first, in the same call."""
        await self.begin_held_on_loop()
        result: T = await self._execute(  # type: ignore[no-untyped-call]
            _after_begin, self._conn, self.take_begin(), function, args
        )
        return result


async def connect(database: str) -> Connection:
    """Open ``database`` the way SQLAlchemy's aiosqlite dialect opens a file database
    (``check_same_thread=False``); for ``create_async_engine(async_creator=...)``."""
    connection = Connection(
        partial(sqlite3.connect, database, check_same_thread=False), ITER_CHUNK_SIZE
    )
    connection._thread.daemon = True  # as SQLAlchemy sets it: never holds up the exit
    try:
        await connection
    except Exception:
        # aiosqlite queues its thread's stop without waiting for it, and the thread answers that
        # stop on this loop: after asyncio.run has closed the loop (a command whose database
        # cannot be opened), it printed "Event loop is closed" with its traceback. Wait for it.
        await asyncio.to_thread(connection._thread.join, THREAD_STOP_SECONDS)
        raise
    return connection
