"""Liveness and readiness (GET /v1/health/live, /v1/health/ready; /v1/health is readiness).

* **Live**: the process answers HTTP. Nothing else is asked, so an orchestrator restarts a hub
  only when the process itself is stuck, never because the database is away.
* **Ready**: the hub can take work, which means its database answers *and can be written*: a
  database that only reads (a PostgreSQL standby or ``default_transaction_read_only``, a SQLite
  file the process may not write, or ``PRAGMA query_only``), one on a disk with almost no room
  left (SQLite), or one that refused a write in the last :data:`RECENT_FAILURE_SECONDS` (any
  database: PostgreSQL's disk full is only seen by writing) makes it not ready: 503 with
  Retry-After, and the reason in ``database``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Final

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.errors import Unavailable
from hub.server.handlers import reply
from hub.server.keys import CTX
from hub.server.problems import DATABASE_RETRY_AFTER, database_problem
from hub.services.context import HubContext
from hub.storage.engine import ping
from protocols import api

RECENT_FAILURE_SECONDS: Final = 30.0
MIN_FREE_BYTES: Final = 1 << 20  # below this on the SQLite database's disk: full


async def live(request: web.Request) -> web.Response:
    # The log origin names this hub (it is public: every checkpoint starts with it).
    return reply(api.Liveness(status="alive", log_origin=request.app[CTX].log_origin))


async def ready(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    problem = await database_state(ctx)
    if problem is None:
        return reply(api.Health(status="ok", database="ok", log_origin=ctx.log_origin))
    response = reply(
        api.Health(status="not ready", database=problem, log_origin=ctx.log_origin), status=503
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


async def database_state(ctx: HubContext) -> str | None:  # noqa: PLR0911 - one reason each
    """Why the database cannot take work now (a short phrase), or ``None`` when it can."""
    try:
        await ping(ctx.engine)
    except Unavailable:
        return "unreachable"
    except Exception as exc:  # a driver error ping does not wrap, as the error middleware sees it
        if database_problem(exc) is not None:
            return "unreachable"
        raise
    failed = ctx.storage_failed_at
    if failed is not None and time.monotonic() - failed < RECENT_FAILURE_SECONDS:
        return "a write failed recently"
    try:
        async with ctx.engine.connect() as conn:
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
        if database_problem(exc) is not None:
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
