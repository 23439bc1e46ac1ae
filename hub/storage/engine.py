"""Database engines for the hub: SQLite (one file, the default) or PostgreSQL.

An engine is built at start-up (never at import) from a URL:

* ``sqlite+aiosqlite:///PATH`` — every new connection is put in WAL mode with
  ``synchronous=FULL`` (a message the hub acknowledged survives a power cut), foreign keys on and
  a 5 s busy timeout. SQLAlchemy, not the ``sqlite3`` module, starts transactions, and it starts
  them with ``BEGIN IMMEDIATE``: SAVEPOINTs then nest properly, DDL is transactional, and two
  transactions that read then write wait for each other (busy timeout) instead of one failing
  with "database is locked".

  Connections of the read-only view (:func:`read_only`) start theirs with a plain (deferred)
  ``BEGIN`` instead: they never write, so they need not take the write lock, and in WAL mode a
  reader neither waits for the writer nor holds it up; its transaction still reads one consistent
  snapshot (taken at its first statement) however many statements it runs. Only code that never
  writes on the connection may use the view: a deferred transaction that tried to write after
  reading could fail with "database is locked" instead of waiting.
* ``postgresql+asyncpg://USER@HOST:PORT/DB``. A connection taken from the pool is checked before
  use (:func:`_check_on_checkout`): for nothing if it was handed back less than
  ``POSTGRESQL_PING_AFTER_IDLE_SECONDS`` ago, else with one empty query.

``sqlite://`` and ``postgresql://`` without a driver are taken to mean the drivers above.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path
from typing import Any, Final

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Unavailable, config_error
from pgs_hub.hub.storage import sqlite_driver

SQLITE_DRIVER: Final = "sqlite+aiosqlite"
POSTGRESQL_DRIVER: Final = "postgresql+asyncpg"
# A database that does not answer must turn into a quick 503, never a hung request.
POSTGRESQL_CONNECT_TIMEOUT_SECONDS: Final = 5
POSTGRESQL_POOL_TIMEOUT_SECONDS: Final = 10
# A pooled connection idle for longer than this is pinged (one round trip) before it is used.
POSTGRESQL_PING_AFTER_IDLE_SECONDS: Final = 2.0
POSTGRESQL_PING_TIMEOUT_SECONDS: Final = 5.0
_HANDED_BACK: Final = "pgs_handed_back"  # connection record info: when, on the monotonic clock
SQLITE_BUSY_TIMEOUT_MS: Final = 5000
# Connections kept open, and no more: opening one costs a thread, a file open and the PRAGMAs
# above, and with SQLAlchemy's default (5, and 10 more opened and closed again on demand) a busy hub
# spent more time opening connections than reading on them. A request beyond 32 at once waits for
# one to be handed back (an asyncio wait) instead; idle ones cost a sleeping thread each.
SQLITE_POOL_SIZE: Final = 32
SQLITE_POOL_OVERFLOW: Final = 0
# A WAL reused after a checkpoint is cut back to this size (connections that set
# ``wal_autocheckpoint``, whose WAL may grow past SQLite's default between two checkpoints).
WAL_SIZE_LIMIT_BYTES: Final = 64 * 1024 * 1024
_READ_ONLY: Final = "pgs_read_only"  # execution option of the read-only view

_SQLITE_PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def default_sqlite_url(home: Path) -> str:
    """The URL of the hub's default database, ``HOME/hub.db``."""
    return URL.create(SQLITE_DRIVER, database=str(home / "hub.db")).render_as_string(
        hide_password=False
    )


def redact(url: str) -> str:
    """``url`` with any password hidden, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable database URL>"


def parse_url(url: str) -> URL:
    """Parse and check a database URL; raises :class:`ConfigError` for anything unsupported."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise config_error("config.database.unreadable_url") from None
    # Read the names from the URL itself: asking SQLAlchemy for the default driver would load it.
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in {"", "aiosqlite"}:
        if not parsed.database or parsed.database == ":memory:":
            raise config_error("config.database.sqlite_file")
        return parsed.set(drivername=SQLITE_DRIVER)
    if backend == "postgresql" and driver in {"", "asyncpg"}:
        return parsed.set(drivername=POSTGRESQL_DRIVER)
    raise config_error("config.database.unsupported", url=redact(url))


def create_engine(
    url: str, *, foreign_keys: bool = True, wal_autocheckpoint: int | None = None
) -> AsyncEngine:
    """An engine for ``url`` (see the module docs). No connection is made until first use.

    ``hide_parameters``: a database error's text never quotes the statement's parameters (message
    ids, envelope bytes, signatures), wherever it ends up.

    ``foreign_keys=False`` is for migrations only: SQLite rebuilds a table to alter it, which it
    cannot do while other tables' foreign keys point at it; the migration checks the keys itself
    (``PRAGMA foreign_key_check``) before committing.

    ``wal_autocheckpoint`` (SQLite): the WAL size in pages past which a commit checkpoints by
    itself (SQLite's default is 1,000). Only the serving hub sets it, higher, with
    ``journal_size_limit``: its checkpoints run in the background (hub.storage.checkpoint).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""  # parse_url refused a URL without one
        engine = create_async_engine(
            parsed, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW,
            hide_parameters=True, async_creator=partial(sqlite_driver.connect, database),
        )  # fmt: skip
        _configure_sqlite(engine, foreign_keys=foreign_keys, wal_autocheckpoint=wal_autocheckpoint)
        return engine
    engine = create_async_engine(
        parsed,
        pool_timeout=POSTGRESQL_POOL_TIMEOUT_SECONDS,
        hide_parameters=True,
        connect_args={"timeout": POSTGRESQL_CONNECT_TIMEOUT_SECONDS},
    )
    event.listen(engine.sync_engine, "connect", _handed_back)
    event.listen(engine.sync_engine, "checkin", _handed_back)
    event.listen(engine.sync_engine, "checkout", _check_on_checkout)
    return engine


def _handed_back(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    record.info[_HANDED_BACK] = time.monotonic()


def _check_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Replace SQLAlchemy's ``pool_pre_ping``, which costs three round trips on asyncpg (BEGIN,
    an empty query, ROLLBACK) every time a connection is taken from the pool, several times per
    request (bench/README.md, issue 17).

    A connection the server closed (restarted, or ended the backend) is known without asking:
    asyncpg reads the server's goodbye and the end of the socket as they come, while the
    connection waits in the pool. Only one that waited longer than a moment, in which its
    network path may have gone quiet without a word, is asked one empty query, with a timeout.
    Either failure invalidates the pool, as a failed pre-ping did: the pool opens a new
    connection for this checkout, and the others are replaced as they are taken."""
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise InvalidatePoolError("the database closed the connection")
    idle = time.monotonic() - record.info.get(_HANDED_BACK, 0.0)
    if idle <= POSTGRESQL_PING_AFTER_IDLE_SECONDS:
        return
    try:
        await_(driver.fetchrow(";", timeout=POSTGRESQL_PING_TIMEOUT_SECONDS))
    except Exception as exc:  # whatever the reason, this connection is of no use
        raise InvalidatePoolError("the database did not answer a ping") from exc


def _configure_sqlite(
    engine: AsyncEngine, *, foreign_keys: bool, wal_autocheckpoint: int | None
) -> None:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (below) rather than the sqlite3 module's legacy rules.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                if foreign_keys or "foreign_keys" not in pragma:
                    cursor.execute(pragma)
            if not foreign_keys:
                cursor.execute("PRAGMA foreign_keys=OFF")
            if wal_autocheckpoint is not None:
                cursor.execute(f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}")
                cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql(sqlite_driver.IMMEDIATE)

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """A view of ``engine`` (same pool) for transactions that only read.

    On SQLite they begin without taking the write lock (see the module docs), so reads do not
    queue behind the writers; on PostgreSQL it is the engine itself in all but name. Never write
    on one of its connections.
    """
    return engine.execution_options(**{_READ_ONLY: True})


async def ping(engine: AsyncEngine, *, timeout: float = 5.0) -> None:
    """Check that the database answers; raises :class:`Unavailable` when it does not.

    This is the one place where a driver's connection failure becomes a hub error.
    """
    try:
        async with asyncio.timeout(timeout), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (DBAPIError, OSError, TimeoutError) as exc:
        raise Unavailable("the database is not reachable", code=Code.DATABASE_UNAVAILABLE) from exc
