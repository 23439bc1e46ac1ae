"""Reading request bodies with a deadline, and telling a client that hung up from a fault.

aiohttp bounds the size of a body (``client_max_size``) and the time to send a request head
(``keepalive_timeout``), but not the time a body may take: a client sending one byte every few
seconds would hold a handler and a connection for as long as it liked. :func:`read_body` gives the
whole body :attr:`HubContext.body_timeout_seconds` (config.toml ``[hub] body_timeout_seconds``),
then answers 408; aiohttp then reads what still comes for its lingering time (10 s) at most, and
closes the connection (closing at once, with bytes unread, would reset it and lose the answer).

The problem middleware (hub/server/problems.py) reads every request body this way before the
route's handler runs, so no route can forget it; handlers then get the body from aiohttp's cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from hub.errors import RequestTimeout
from hub.server.keys import CTX


class ClientGone(Exception):
    """The client closed its connection before the request was complete (not a hub fault)."""


async def read_body(request: web.Request) -> bytes:
    """The whole body, within the configured time; raises :class:`RequestTimeout` (408) or
    :class:`ClientGone`."""
    limit = request.app[CTX].body_timeout_seconds
    try:
        async with asyncio.timeout(limit):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {limit:g} seconds") from None
    except (ConnectionError, HttpProcessingError) as exc:
        raise ClientGone(type(exc).__name__) from None


@web.middleware
async def body_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every body, on every route, arrives within the body timeout or is refused (408); handlers
    then read it from aiohttp's cache. Innermost middleware: the ones before it may still clone
    the request (hub.server.proxy), which aiohttp forbids once the body is read."""
    if request.body_exists and request.method not in {"GET", "HEAD"}:
        await read_body(request)
    return await handler(request)
