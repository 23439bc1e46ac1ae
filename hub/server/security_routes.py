"""GET /v1/audit/security-events: refusals counted per actor, reason and minute, for auditors."""

from __future__ import annotations

from aiohttp import web

from pgs_hub.hub.server.authn import authenticate
from pgs_hub.hub.server.handlers import int_param, reply
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.services import security_report


async def security_events(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    ctx = request.app[CTX]
    since = int_param(request, "since", max(0, ctx.now() - ctx.settings.security_events_since))
    return reply(await security_report.security_events(ctx, reader, since))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/audit/security-events", security_events)
