"""Liveness and readiness (GET /v1/health/live, /v1/health/ready; /v1/health is readiness).

* **Live**: the process answers HTTP. Nothing else is asked, so an orchestrator restarts a hub
  only when the process itself is stuck, never because the database is away.
* **Ready**: the hub can take work, which means its database answers *and can be written*
  (:func:`hub.services.database.readiness` says what that takes); otherwise 503 with
  Retry-After, and the reason in ``database``.
"""

from __future__ import annotations

from aiohttp import web

from pgs_hub.hub.server.handlers import reply
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.problems import DATABASE_RETRY_AFTER
from pgs_hub.hub.services.database import readiness
from pgs_hub.protocols import api


async def live(request: web.Request) -> web.Response:
    # The log origin names this hub (it is public: every checkpoint starts with it).
    return reply(api.Liveness(status="alive", log_origin=request.app[CTX].log_origin))


async def ready(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    problem = await readiness(ctx)
    if problem is None:
        return reply(api.Health(status="ok", database="ok", log_origin=ctx.log_origin))
    response = reply(
        api.Health(status="not ready", database=problem, log_origin=ctx.log_origin), status=503
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
