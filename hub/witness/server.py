"""The witness's HTTP interface: ``POST /add-checkpoint`` (c2sp.org/tlog-witness) and
``GET /health``. Refusals are RFC 9457 problem details, except the 409 the spec defines, whose
body is the recorded tree size (``text/x.tlog.size``)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pgs_hub.hub.witness.home import WitnessConfig, load_cosigner
from pgs_hub.hub.witness.service import Witness, WitnessRejection
from pgs_hub.hub.witness.store import WitnessStore

log = logging.getLogger("pgs.witness")
MAX_BODY = 320 * 1024  # a note (256 KiB at most) and 63 proof lines
WITNESS: web.AppKey[Witness] = web.AppKey("witness", Witness)


def _problem(status: int, code: str, detail: str) -> web.Response:
    body = {
        "type": f"https://pgs.wcoomd.org/problems/{code}",
        "status": status,
        "code": code,
        "detail": detail,
    }
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/problem+json"
    )


async def _body(request: web.Request) -> bytes | None:
    """The request body, read up to :data:`MAX_BODY` bytes (None when it is longer), whatever
    Content-Length claims."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def add_checkpoint(request: web.Request) -> web.Response:
    body = await _body(request)
    if body is None:
        return _problem(413, "witness.too_large", f"the request is larger than {MAX_BODY} bytes")
    try:
        line = await request.app[WITNESS].add_checkpoint(body)
    except WitnessRejection as exc:
        if exc.status == 409 and exc.size is not None:
            return web.Response(status=409, text=f"{exc.size}\n", content_type="text/x.tlog.size")
        return _problem(exc.status, exc.code, str(exc))
    return web.Response(text=line, content_type="text/plain", charset="utf-8")


async def health(request: web.Request) -> web.Response:
    witness = request.app[WITNESS]
    doc = {"status": "ok", "name": witness.cosigner.name, "key": witness.cosigner.verifier.encode()}
    return web.json_response(doc)


def create_app(config: WitnessConfig) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY + 1)
    cosigner = load_cosigner(config)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        store = await WitnessStore.open(config.state_path)
        app[WITNESS] = Witness(cosigner, config.logs, store)
        log.info("witness %s ready for %d log(s)", cosigner.name, len(config.logs))
        yield
        await store.close()

    app.cleanup_ctx.append(resources)
    app.router.add_post("/add-checkpoint", add_checkpoint)
    app.router.add_get("/health", health)
    return app
