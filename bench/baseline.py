"""The baseline server: a bare aiohttp application with one POST handler that reads the body and
answers a small JSON 201, nothing else (no parsing, no signature, no database); and one PUT handler
that streams its body to a file (the upload baseline).

It is what any aiohttp service costs per request on this machine, measured in the same run, by
the same client code, with the same request bodies as the hub: ``sends/s ÷ baseline req/s`` is
how much of that the hub's own work leaves. Run it as ``python -m bench.baseline --port N``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from pgs_hub.hub.server.loop import new_event_loop

# The hub's own cap on a submission body (the protocol's largest envelope plus a margin).
MAX_BODY = 6_291_456 + 64 * 1024


async def submit(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"received": len(body)}, status=201)


async def upload(request: web.Request) -> web.Response:
    """A bare streaming upload (part 5b's baseline): the body written to a file as it arrives,
    nothing checked, the file removed afterwards. With ``?durable=1`` the file is fsynced
    before the answer, as the hub makes every part durable before it answers: not the target's
    baseline, but it shows what the disk costs on the machine."""
    path = request.app[FOLDER] / "upload.bin"
    received = 0
    with path.open("wb") as out:
        async for piece in request.content.iter_chunked(64 * 1024):
            received += out.write(piece)
        if request.query.get("durable") == "1":
            out.flush()
            os.fsync(out.fileno())
    path.unlink()
    return web.json_response({"received": received}, status=201)


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


FOLDER = web.AppKey("folder", Path)


def create_app(folder: Path) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[FOLDER] = folder
    app.router.add_post("/v1/envelopes", submit)
    app.router.add_put("/upload", upload)
    app.router.add_get("/v1/health", health)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args(argv)
    # The hub's own loop (uvloop when installed): the ratios then compare like with like.
    web.run_app(
        create_app(args.folder), host=args.host, port=args.port, access_log=None, print=None,
        loop=new_event_loop(),
    )  # fmt: skip


if __name__ == "__main__":
    main()
