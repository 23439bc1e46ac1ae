"""The baseline server: a bare aiohttp application with one POST handler that reads the body and
answers a small JSON 201, nothing else (no parsing, no signature, no database).

It is what any aiohttp service costs per request on this machine, measured in the same run, by
the same client code, with the same request bodies as the hub: ``sends/s ÷ baseline req/s`` is
how much of that the hub's own work leaves. Run it as ``python -m bench.baseline --port N``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from aiohttp import web

# The hub's own cap on a submission body (the protocol's largest envelope plus a margin).
MAX_BODY = 6_291_456 + 64 * 1024


async def submit(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"received": len(body)}, status=201)


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/v1/envelopes", submit)
    app.router.add_get("/v1/health", health)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
