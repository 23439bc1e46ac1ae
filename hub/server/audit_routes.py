"""HTTP handlers of the transparency log (docs/audit-log.md): checkpoints, entries, proofs."""

from __future__ import annotations

from aiohttp import web

from pgs_hub.hub.server.authn import authenticate
from pgs_hub.hub.server.handlers import int_param, reply
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.services import auditlog, tiles


async def get_checkpoint(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    return reply((await auditlog.checkpoint(request.app[CTX], reader)).to_api())


async def post_checkpoint(request: web.Request) -> web.Response:
    reader = await authenticate(request, await request.read() or None)
    return reply((await auditlog.checkpoint(request.app[CTX], reader, fresh=True)).to_api())


async def get_entries(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    start = int_param(request, "start", 0)
    end = int_param(request, "end", start + auditlog.MAX_ENTRIES)
    return reply(await auditlog.entries(request.app[CTX], reader, start, end))


def _optional_int(request: web.Request, name: str) -> int | None:
    return int_param(request, name, 0) if name in request.query else None


async def get_inclusion(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    result = await auditlog.inclusion(
        request.app[CTX],
        reader,
        index=_optional_int(request, "index"),
        mid=request.query.get("mid"),
        size=_optional_int(request, "size"),
    )
    return reply(result)


async def get_key_proof(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    ctx = request.app[CTX]
    kid, size = request.match_info["kid"], _optional_int(request, "size")
    return reply(await auditlog.key_proof_for(ctx, reader, kid, size))


async def get_consistency(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    first = int_param(request, "first", 0)
    second = int_param(request, "second", 0)
    return reply(await auditlog.consistency_for(request.app[CTX], reader, first, second))


TILES_PREFIX = "/v1/audit/tlog"  # c2sp.org/tlog-tiles: <prefix>/checkpoint, <prefix>/tile/...


async def get_tiles_checkpoint(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    note = await tiles.checkpoint(request.app[CTX], reader)
    return web.Response(
        body=note,
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=5"},
    )


async def get_tile(request: web.Request) -> web.Response:
    reader = await authenticate(request, None)
    data = await tiles.tile(request.app[CTX], reader, request.match_info["path"])
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/audit/checkpoint", get_checkpoint)
    app.router.add_post("/v1/audit/checkpoint", post_checkpoint)
    app.router.add_get("/v1/audit/entries", get_entries)
    app.router.add_get("/v1/audit/proof/inclusion", get_inclusion)
    app.router.add_get("/v1/audit/proof/key/{kid}", get_key_proof)
    app.router.add_get("/v1/audit/proof/consistency", get_consistency)
    app.router.add_get(f"{TILES_PREFIX}/checkpoint", get_tiles_checkpoint)
    app.router.add_get(TILES_PREFIX + "/tile/{path:.+}", get_tile)
