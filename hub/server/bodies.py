"""Reading request bodies with a deadline, and telling a client that hung up from a fault.

aiohttp bounds the size of a body (``client_max_size``) and the time to send a request head
(``keepalive_timeout``), but not the time a body may take: a client sending one byte every few
seconds would hold a handler and a connection for as long as it liked. :func:`read_body` gives the
whole body :attr:`HubContext.body_timeout_seconds` (config.toml ``[hub] body_timeout_seconds``),
then answers 408; aiohttp then reads what still comes for its lingering time (10 s) at most, and
closes the connection (closing at once, with bytes unread, would reset it and lose the answer).

:func:`body_middleware` reads every request body this way before the route's handler runs, so no
route can forget it; handlers then get the body from aiohttp's cache. The one exception is a
handler marked :func:`streams_body` (tus PATCH), which streams its body under :func:`body_deadline`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from pgs_hub.hub.errors import RequestTimeout
from pgs_hub.hub.server.keys import CTX


class ClientGone(Exception):
    """The client closed its connection before the request was complete (not a hub fault)."""


async def read_body(request: web.Request) -> bytes:
    """The whole body, within the configured time; raises :class:`RequestTimeout` (408) or
    :class:`ClientGone`."""
    limit = request.app[CTX].body_timeout_seconds
    try:
        if request.content.is_eof():
            # All of it has arrived (an envelope usually comes in the segments of its head):
            # read() cannot wait, so there is no deadline to arm. Arming one (a timer handle
            # made and cancelled) cost ~4-5 us of the event loop's CPU per request.
            return await request.read()
        async with asyncio.timeout(limit):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {limit:g} seconds") from None
    except (ConnectionError, HttpProcessingError) as exc:
        raise ClientGone(type(exc).__name__) from None


_STREAMS_BODY = "_pgs_streams_body"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def streams_body(handler: Handler) -> Handler:
    """Mark a route handler that reads its body itself, as a stream, with its own size cap and
    :func:`body_deadline` (a tus PATCH may be larger than ``client_max_size``)."""
    setattr(handler, _STREAMS_BODY, True)
    return handler


def body_deadline(request: web.Request) -> asyncio.Timeout:
    """The deadline of a body a handler streams itself (``async with body_deadline(request)``)."""
    return asyncio.timeout(request.app[CTX].body_timeout_seconds)


@web.middleware
async def body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every body, on every route, arrives within the body timeout or is refused (408); handlers
    then read it from aiohttp's cache. Innermost middleware: the ones before it may still clone
    the request (hub.server.proxy), which aiohttp forbids once the body is read."""
    streamed = getattr(request.match_info.handler, _STREAMS_BODY, False)
    if request.body_exists and request.method not in {"GET", "HEAD"} and not streamed:
        await read_body(request)
    return await handler(request)
