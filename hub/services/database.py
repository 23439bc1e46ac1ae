"""The database as the layers above services see it: opened, checked, asked whether it can take
work, and what a driver error means. The web layer (hub.server) and the CLI reach the storage
layer only through here and the other services (the layers contract in pyproject.toml)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.errors import Unavailable
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage.checkpoint import WalCheckpointer, serving_engine
from pgs_hub.hub.storage.engine import create_engine, parse_url, ping, redact
from pgs_hub.hub.storage.faults import DATABASE_ERRORS, DatabaseFault, fault_of
from pgs_hub.hub.storage.revision import check_schema, current_revision, head_revision

__all__ = [
    "DATABASE_ERRORS",
    "MIN_FREE_BYTES",
    "RECENT_FAILURE_SECONDS",
    "DatabaseFault",
    "WalCheckpointer",
    "check_schema",
    "close_serving_engine",
    "current_revision",
    "database_problem",
    "fault_of",
    "head_revision",
    "open_engine",
    "open_serving_engine",
    "parse_url",
    "readiness",
    "redact",
    "upgrade",
]

RECENT_FAILURE_SECONDS: Final = 30.0
MIN_FREE_BYTES: Final = 1 << 20  # below this on the SQLite database's disk: full


def database_problem(exc: BaseException) -> tuple[DatabaseFault, str] | None:
    """A database error that is the deployment's to fix, not a bug (a file that cannot be opened,
    a server that refuses this role or has no such database, a full disk: ``fault_of``), as its
    fault and the driver's own first line, for the command line to say plainly.

    ``None`` for anything else: a bug stays an internal error, and an error that is not the
    driver's (a refused socket) is said as what it is. The driver's words, never SQLAlchemy's
    text, which may quote the statement and its parameters."""
    if not isinstance(exc, SQLAlchemyError):
        return None
    fault = fault_of(exc)
    if fault is None:
        return None
    driver = getattr(exc, "orig", None)
    lines = str(exc if driver is None else driver).strip().splitlines()
    return fault, lines[0] if lines else type(exc).__name__


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (Alembic, :mod:`hub.storage.migrate`):
    loaded here, on demand, so that a hub that only checks its revision never loads it."""
    from pgs_hub.hub.storage import migrate  # noqa: PLC0415

    await migrate.upgrade(url, revision)


def open_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """The engine for ``url`` (SQLite or PostgreSQL; see hub.storage.engine)."""
    return create_engine(url, foreign_keys=foreign_keys)


def open_serving_engine(url: str) -> tuple[AsyncEngine, WalCheckpointer | None]:
    """The engine of ``pgs serve``, and on SQLite the checkpointer (started) that copies its WAL
    into the database in the background instead of in the commits (hub.storage.checkpoint).
    Close both with :func:`close_serving_engine`."""
    engine, checkpointer = serving_engine(url)
    if checkpointer is not None:
        checkpointer.start()
    return engine, checkpointer


async def close_serving_engine(engine: AsyncEngine, checkpointer: WalCheckpointer | None) -> None:
    """Close the engine's connections, then stop the checkpointer: its last checkpoint copies
    everything they wrote into the database file."""
    await engine.dispose()
    if checkpointer is not None:
        await asyncio.to_thread(checkpointer.stop)


async def readiness(ctx: HubContext) -> str | None:  # noqa: PLR0911 - one reason each
    """Why the database cannot take work now (a short phrase), or ``None`` when it can.

    Ready means the database answers *and can be written*: a database that only reads (a
    PostgreSQL standby or ``default_transaction_read_only``, a SQLite file the process may not
    write, or ``PRAGMA query_only``), one on a disk with almost no room left (SQLite), or one that
    refused a write in the last :data:`RECENT_FAILURE_SECONDS` (any database: PostgreSQL's disk
    full is only seen by writing) is not ready."""
    # Both checks read through the read-only view: on SQLite a deferred BEGIN, which takes no
    # write lock, so a health check never queues behind the writers (nor they behind it). Each
    # took the write lock before; 64 at once, as a load balancer's first checks come, kept the
    # event loop busy retrying their BEGINs (bench/README.md, issue 17, ninth round).
    try:
        await ping(ctx.reader)
    except Unavailable:
        return "unreachable"
    except Exception as exc:  # a driver error ping does not wrap, as the error middleware sees it
        if fault_of(exc) is not None:
            return "unreachable"
        raise
    failed = ctx.storage_failed_at
    if failed is not None and time.monotonic() - failed < RECENT_FAILURE_SECONDS:
        return "a write failed recently"
    try:
        async with ctx.reader.connect() as conn:
            if conn.dialect.name == "postgresql":
                row = (
                    await conn.execute(
                        text("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()")
                    )
                ).one()
                return "read-only" if row[0] == "on" or row[1] else None
            if (await conn.execute(text("PRAGMA query_only"))).scalar() == 1:
                return "read-only"
    except (DBAPIError, OSError):
        return "unreachable"
    except Exception as exc:
        if fault_of(exc) is not None:
            return "unreachable"
        raise
    database = ctx.engine.url.database
    if ctx.engine.dialect.name == "sqlite" and database:
        path = Path(database)
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            return "read-only"
        if shutil.disk_usage(path.parent).free < MIN_FREE_BYTES:
            return "full"
    return None
