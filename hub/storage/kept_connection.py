"""A group-committed writer's own SQLite connection, kept from one transaction to the next.

Why: the pool hands its connections out first in, first out, so a writer that took one per
transaction got a different connection of 32 almost every time. Each ``sqlite3`` connection has
its own cache of prepared statements and its own page cache, so every group commit began cold:
its dozen statements were prepared again, and the pages of the tables and indexes it appends to
read again (about thirteen ``pread`` calls per request at 100 requests/s). A connection of the
writer's own prepares each statement once, and its pages stay cached for as long as no other
connection commits (SQLite drops a connection's page cache when another one changed the
database). Measured in the hub at 250 envelopes/s, a batch's plan took 488-715 us against
547-968 us on pooled connections (issue 17, eighth round, ``bench/README.md``). It also made the
group commit faster to start, and so its batches at full speed smaller, until the committer let
the loop run one turn before taking a batch (:mod:`hub.storage.groupcommit`).

What it owes the rest of the hub:

* **Given back when the writer closes** (:meth:`KeptConnection.close`, from
  :meth:`GroupCommitter.close <hub.storage.groupcommit.GroupCommitter.close>`), before the
  engine is disposed of: the pool then holds every connection again.
* **Dropped after any error.** A transaction that raised may have left the connection in a state
  nobody checked (a failed ``COMMIT``, a cancelled hand-off to the driver's thread, a changed
  ``PRAGMA``): it is invalidated (closed, never returned to the pool) and the next transaction
  takes a fresh one. Errors of one item never get here: they are results, not exceptions
  (:mod:`hub.storage.batch`).
* **Its temporary files in memory** (``PRAGMA temp_store=MEMORY``, set when it is taken, set
  back to the default before it is given back). A batch stores its envelopes in a SAVEPOINT
  (:mod:`hub.services.writers`), and SQLite keeps the first copy of every page changed inside it
  in a statement journal; past 64 KiB that journal went to a temporary file, created, written a
  page at a time and deleted for every such batch, on the event loop (``strace`` of the hub at
  250 envelopes/s: ten ``pwrite`` calls per envelope). In memory, the loop's CPU per batch of 8
  envelopes fell from 0.91-0.95 to 0.82-0.85 ms (``python -m bench.statement_journal``; batches
  of 32: 2.04-2.15 to 1.93-2.06 ms; of 1: no change). Only this connection's: a batch's journal
  is bounded by the batch, while pooled connections also sort and build indexes, whose temporary
  files are bounded only by the database.
* **The database is not replaced under it**: ``pgs admin restore`` replaces an SQLite file only
  while the hub is stopped, as for every pooled connection.

On PostgreSQL nothing is kept: each transaction takes a pooled connection as before. The server
caches pages for every session alike, and the pool checks a connection that waited before it is
used (:mod:`hub.storage.engine`), which a connection kept idle across a server restart would
miss.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.hub.storage import batch, sqlite_driver
from pgs_hub.hub.storage.batch import Plan

R = TypeVar("R")


class KeptConnection:
    """The connection one writer runs its transactions on (see the module docs). Its
    transactions must not overlap: a group committer runs one at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    @property
    def connection(self) -> AsyncConnection | None:
        """The connection kept now, if any (tests)."""
        return self._conn

    async def transaction(self, plan: Callable[[str], Plan[R]]) -> R:
        """:func:`hub.storage.batch.transaction` on the kept connection (SQLite)."""
        if self._engine.dialect.name != "sqlite":
            return await batch.transaction(self._engine, plan)
        conn, taken = self._conn, self._conn is None
        if conn is None:
            conn = self._conn = await self._engine.connect()
        try:
            if taken:
                await _set_temp_store(conn, "MEMORY")
            return await batch.transaction_on(conn, plan)
        except BaseException:
            self._conn = None
            await _drop(conn)
            raise

    async def close(self) -> None:
        """Give the connection back to the pool (the writer is done)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await _set_temp_store(conn, "DEFAULT")
        except (sqlite3.Error, SQLAlchemyError, ValueError):  # broken (ValueError: closed)
            # Dropped, not pooled as it is; nothing to tell the writer, which is done.
            await _drop(conn)
            return
        except BaseException:
            await _drop(conn)
            raise
        await conn.close()


async def _set_temp_store(conn: AsyncConnection, value: str) -> None:
    """``PRAGMA temp_store`` on the kept connection, outside any transaction (it is at rest when
    taken and when given back), in the driver's thread."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if isinstance(driver, sqlite_driver.Connection):
        await driver.run_in_thread(_pragma, f"PRAGMA temp_store={value}")


def _pragma(db: sqlite3.Connection, sql: str) -> None:
    db.execute(sql).close()


async def _drop(conn: AsyncConnection) -> None:
    """Close ``conn`` for good (it is not returned to the pool). Best effort: it is dropped
    because something already failed, and that error is the one to report."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()
