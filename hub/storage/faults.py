"""What a database error means for the hub: the database is away (``outage``), it is full
(``full``), or neither (a bug, or a constraint the caller handles).

The only place that knows the three drivers (SQLAlchemy, asyncpg, sqlite3) and their error codes;
the HTTP edge asks :func:`fault_of` (through ``hub.services.database``) and maps the answer to a
503 or 507, without importing any driver.
"""

from __future__ import annotations

import sqlite3
from typing import Final, Literal

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

DatabaseFault = Literal["outage", "full"]

# Driver and pool errors that mean "the database cannot be reached or cannot write now", not "the
# hub has a bug": SQLAlchemy wraps most driver errors, but a connection refused while the pool
# connects, or a dropped asyncpg connection, may surface unwrapped.
_DATABASE_OUTAGE: Final = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # the pool could not hand out a connection in time
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect
    ConnectionError,
    TimeoutError,
)
# PostgreSQL SQLSTATEs that mean "cannot write now" rather than a bug: a read-only database,
# transaction or hot standby (25006), connection exceptions (08), insufficient resources (53: disk
# full, out of memory, too many connections), operator intervention (57P: shutdown, cannot connect
# now), system errors (58), a database that does not accept connections now (55000: ALTER
# DATABASE ... ALLOW_CONNECTIONS false) or a lock not available (55P03), and a database that
# refuses this hub (28: authorization, 3D000: no such database: the deployment's fault).
_PG_UNAVAILABLE_PREFIXES: Final = (
    "25006",
    "08",
    "53",
    "57P",
    "58",
    "55000",
    "55P03",
    "28",
    "3D000",
)
# SQLite result codes of the same sort: busy, locked, read-only, I/O error, cannot open.
_SQLITE_UNAVAILABLE: Final = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
     sqlite3.SQLITE_CANTOPEN}
)  # fmt: skip
#: Every error a database call may raise besides the hub's own (background loops catch these).
DATABASE_ERRORS: Final = (sa_exc.SQLAlchemyError, OSError)


def _outage(exc: Exception) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str) and state.startswith(_PG_UNAVAILABLE_PREFIXES):
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_UNAVAILABLE:
        return True
    # A connection that cannot be made may surface as a bare OSError ("Multiple exceptions" when
    # a host name has several addresses), not as a ConnectionError.
    return isinstance(exc, _DATABASE_OUTAGE) or type(exc) is OSError


def _full(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) == "53100"


def fault_of(exc: Exception) -> DatabaseFault | None:
    """``full`` for a database out of room, ``outage`` for one away or unable to write now, else
    ``None``."""
    if _full(exc):
        return "full"
    if _outage(exc):
        return "outage"
    return None
