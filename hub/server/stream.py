"""WebSocket stream: pushes mailbox items (new envelopes, receipts) as they arrive.

Resumable: the client says ``?after=CURSOR`` (the last cursor it processed) and receives every
item after it, in order, then live items. Items come from the durable mailbox, never from the
notification itself, so a reconnect loses nothing and repeats nothing. Client frames are not
expected; a client that floods frames is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from hub.errors import MalformedRequest
from hub.server.authn import authenticate
from hub.server.handlers import int_param
from hub.server.keys import CTX
from hub.services import mailbox

PAGE = 200
IDLE_RECHECK_SECONDS = 20.0
MAX_CLIENT_FRAMES = 50


async def _drain_client(ws: web.WebSocketResponse, closed: asyncio.Event) -> None:
    frames = 0
    try:
        async for msg in ws:
            frames += 1
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE) or frames > MAX_CLIENT_FRAMES:
                break
    finally:
        closed.set()
        if frames > MAX_CLIENT_FRAMES:
            await ws.close(code=1008, message=b"too many client frames")


async def stream(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
    if not ws.can_prepare(request).ok:
        raise MalformedRequest(
            "this is a WebSocket endpoint: open it with an Upgrade: websocket request",
            code="stream.not_websocket",
        )
    reader = await authenticate(request, None)
    ctx = request.app[CTX]
    cursor = int_param(request, "after", 0)
    await ws.prepare(request)
    closed = asyncio.Event()
    sub = ctx.notifier.subscribe(reader.id)
    drainer = asyncio.create_task(_drain_client(ws, closed))
    try:
        while not closed.is_set() and not ws.closed:
            while True:
                page = await mailbox.inbox(ctx, reader, cursor, PAGE)
                for item in page.items:
                    await ws.send_json(item)
                    cursor = item["cursor"]
                if len(page.items) < PAGE:
                    break
            waiter = asyncio.create_task(sub.wait(IDLE_RECHECK_SECONDS))
            closing = asyncio.create_task(closed.wait())
            await asyncio.wait({waiter, closing}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, closing):
                task.cancel()
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        sub.close()
        drainer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await drainer
        if not ws.closed:
            await ws.close()
    return ws
