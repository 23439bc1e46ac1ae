"""HTTP handlers of notification settings (each participant its own) and of the auditors' record
of notification deliveries (hub/services/notifications.py)."""

from __future__ import annotations

from aiohttp import web

from pgs_hub.hub.server.authn import authenticate
from pgs_hub.hub.server.bodies import read_body
from pgs_hub.hub.server.handlers import int_param, reply
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.services import notifications


async def get_my_settings(request: web.Request) -> web.Response:
    actor = await authenticate(request, None)
    return reply(await notifications.my_settings(request.app[CTX], actor))


async def put_my_settings(request: web.Request) -> web.Response:
    raw = await read_body(request)
    actor = await authenticate(request, raw or None)
    return reply(await notifications.set_my_settings(request.app[CTX], actor, raw))


async def get_deliveries(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    result = await notifications.deliveries(
        request.app[CTX],
        reader,
        after=int_param(request, "after", 0),
        limit=int_param(request, "limit", 100),
        participant=request.query.get("participant"),
    )
    return reply(result)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/me/notifications", get_my_settings)
    app.router.add_put("/v1/me/notifications", put_my_settings)
    app.router.add_get("/v1/audit/notifications", get_deliveries)
