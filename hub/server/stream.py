"""WebSocket stream: pushes mailbox items (new envelopes, receipts) as they arrive.

Resumable: the client says ``?after=CURSOR`` (the last cursor it processed) and receives every
item after it, in order, then live items. Items come from the durable mailbox, never from the
notification itself, so a reconnect loses nothing and repeats nothing. Client frames are not
expected; a client that floods frames is disconnected.

Back-pressure: each stream is its own task, and a send waits for the connection to take the
frame, so a client that stops reading holds up only its own task. What one stream has written but
not sent is bounded by ``buffer_bytes`` twice over in the hub (aiohttp's writer waits once that
much is unsent) and by about the same in the kernel (its socket's send buffer is fixed at that
size); the items it holds meanwhile are one page of its mailbox at most. What wakes a stream is a
one-slot flag (:mod:`hub.services.notifier`), never a queue. A send that has not completed within
``send_timeout_seconds`` closes the stream with 1013 "too slow" (and, if even the close frame
cannot go out, drops the connection): the client reconnects later and resumes from its cursor. A
stream that heard nothing re-reads its mailbox every ``recheck_seconds`` anyway (notifications
only make delivery faster, see :mod:`hub.services.fanout`). All three are ``[stream]`` settings
in config.toml.

Access is not decided once, at the upgrade: every page of the mailbox is read through
:func:`hub.services.mailbox.stream_page`, which reads the participant again and asks the policy.
Suspending or revoking a participant wakes its streams in every hub process (the admin service
notifies it, through LISTEN/NOTIFY on PostgreSQL), and a policy reload wakes every stream, so a
stream the policy no longer allows is closed with 1008 at once, its refusal as the close reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import weakref
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError, Forbidden, HubError, MalformedRequest
from pgs_hub.hub.server.authn import authenticate
from pgs_hub.hub.server.handlers import int_param
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.services import mailbox
from pgs_hub.hub.services.notifier import Subscription
from pgs_hub.hub.settings import DEFAULTS

log = logging.getLogger("pgs.hub.stream")

PAGE = DEFAULTS.stream_page  # the hub's own: ctx.settings.stream_page
# Client frames of any kind (pings and pongs included) allowed per window: a client that floods
# frames, even pings that aiohttp would otherwise answer by itself, is disconnected with 1008.
MAX_CLIENT_FRAMES = 50
CLIENT_FRAME_WINDOW_SECONDS = 60.0
# How long shutdown waits for each open stream's close handshake (1001 "going away").
SHUTDOWN_CLOSE_SECONDS = 2.0
# How long a stream that is closed for being too slow may take to send its close frame before
# the connection is dropped without one.
CLOSE_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class StreamSettings:
    """``[stream]`` in config.toml (see :class:`hub.home.HubConfig`)."""

    recheck_seconds: float = 20.0  # re-read the mailbox after this long without a wake-up
    send_timeout_seconds: float = 30.0  # a frame not taken within this closes the stream
    buffer_bytes: int = 65536  # written, not yet sent: the socket's and the hub's buffers each


STREAM_SETTINGS = web.AppKey("stream_settings", StreamSettings)
OPEN_STREAMS = web.AppKey("open_streams", weakref.WeakSet[web.WebSocketResponse])


def track_streams(app: web.Application) -> None:
    """Remember open streams so that shutdown closes them (1001) instead of waiting for them:
    a stream never ends by itself, so without this a SIGTERM would wait out the whole shutdown
    timeout whenever a client is connected, and clients would see an abnormal closure."""
    app[OPEN_STREAMS] = weakref.WeakSet()
    app.on_shutdown.append(_close_streams)


async def _close_streams(app: web.Application) -> None:
    async def close(ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(SHUTDOWN_CLOSE_SECONDS):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"hub shutting down")

    await asyncio.gather(*(close(ws) for ws in list(app.get(OPEN_STREAMS, ()))))


async def _drain_client(
    ws: web.WebSocketResponse, closed: asyncio.Event, sub: Subscription
) -> None:
    """Read (and discard) what the client sends; answer its pings ourselves (``autoping`` is off
    so that pings count against the frame budget too). When the client is gone, ``closed`` is
    set and the stream's wake-up flag raised, so that the stream stops waiting."""
    loop = asyncio.get_running_loop()
    window_start, frames, flooded = loop.time(), 0, False
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            now = loop.time()
            if now - window_start > CLIENT_FRAME_WINDOW_SECONDS:
                window_start, frames = now, 0
            frames += 1
            if frames > MAX_CLIENT_FRAMES:
                flooded = True
                break
            if msg.type is WSMsgType.PING:
                await ws.pong(msg.data)
    finally:
        closed.set()
        sub.wake()
        if flooded:
            await ws.close(code=1008, message=b"too many client frames")


async def stream(request: web.Request) -> web.StreamResponse:
    settings = request.app.get(STREAM_SETTINGS) or StreamSettings()
    ws = web.WebSocketResponse(
        heartbeat=30.0, max_msg_size=4096, writer_limit=settings.buffer_bytes, autoping=False
    )
    if not ws.can_prepare(request).ok:
        raise MalformedRequest(
            "this is a WebSocket endpoint: open it with an Upgrade: websocket request",
            code=Code.STREAM_NOT_WEBSOCKET,
        )
    reader = await authenticate(request, None)
    ctx = request.app[CTX]
    cursor = int_param(request, "after", 0)
    await mailbox.open_stream(ctx, reader)
    await ws.prepare(request)
    _track(request, ws)
    _bound_buffers(request, settings.buffer_bytes)
    closed = asyncio.Event()
    sub = ctx.notifier.subscribe(reader.id)
    drainer = asyncio.create_task(_drain_client(ws, closed, sub))
    too_slow = False
    refused: HubError | None = None
    try:
        while not closed.is_set() and not ws.closed:
            while True:
                page = await mailbox.stream_page(ctx, reader.id, cursor, ctx.settings.stream_page)
                for item in page.items:
                    await _send(ws, item.wire(), settings.send_timeout_seconds)
                    cursor = item.cursor
                if len(page.items) < ctx.settings.stream_page:
                    break
            # One flag: new items, a policy change, or the client gone (_drain_client raises
            # it too). No task per wait: a stream at 100 items/s waits 100 times a second.
            await sub.wait(settings.recheck_seconds)
    except _TooSlow:
        too_slow = True
    except (AuthenticationError, Forbidden) as exc:  # no longer allowed (suspended, revoked...)
        refused = exc
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        sub.close()
        drainer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await drainer
        if too_slow:
            ctx.metrics.inc("pgs_websocket_too_slow_total")
            log.info(
                "closed the stream of %s after cursor %d: a frame was not taken within %.0f s",
                reader.id, cursor, settings.send_timeout_seconds,
            )  # fmt: skip
            await _close_too_slow(request, ws)
        else:
            await _close(ws, reader.id, refused)
    return ws


def _track(request: web.Request, ws: web.WebSocketResponse) -> None:
    if OPEN_STREAMS in request.app:
        request.app[OPEN_STREAMS].add(ws)


async def _close(ws: web.WebSocketResponse, participant: str, refused: HubError | None) -> None:
    """Close normally, or with 1008 and the refusal's code when the policy refused the reader."""
    if ws.closed:
        return
    if refused is None:
        await ws.close()
        return
    log.info("closed the stream of %s: %s", participant, refused.code)
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=refused.code.encode())


def _bound_buffers(request: web.Request, size: int) -> None:
    """Hold what this stream may have written but not sent to ``size`` bytes in the hub's write
    buffer (the writer waits above it) and about as much in the kernel: left to itself, Linux
    grows a socket's send buffer up to ``tcp_wmem`` (4 MiB by default), which a client that
    stops reading would pin per stream."""
    transport = request.transport
    if transport is None:
        return
    transport.set_write_buffer_limits(high=size)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


class _TooSlow(Exception):
    """The client did not take a frame within the send timeout."""


async def _send(ws: web.WebSocketResponse, item: dict[str, Any], seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await ws.send_json(item)
    except TimeoutError:
        raise _TooSlow from None


async def _close_too_slow(request: web.Request, ws: web.WebSocketResponse) -> None:
    """Close with 1013 if the close frame can still go out, else drop the connection: nothing is
    kept for a client that does not read (it resumes from its cursor when it reconnects)."""
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        async with asyncio.timeout(CLOSE_GRACE_SECONDS):
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
    if request.transport is not None:
        request.transport.abort()  # a plain close would wait for the buffered frames forever
