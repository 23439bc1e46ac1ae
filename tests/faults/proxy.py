"""A small asyncio TCP fault proxy for HTTP/1.1 between a client and the hub.

It reads each request whole (headers and a ``Content-Length`` body), then follows the next step of
its plan for that request:

* ``FORWARD`` — forward the request and the response;
* ``DROP_RESPONSE`` — forward the request, wait for the hub's whole response, then reset the
  client's connection instead of passing it on (the hub did the work; the client never hears);
* ``RESET_REQUEST`` — forward only the headers and half of the body, then reset both connections
  (the hub never receives a whole request).

Resets are real TCP RSTs (``SO_LINGER`` 0). When the plan runs out every request passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import Counter
from enum import StrEnum

MAX_HEAD = 64 * 1024


class Mode(StrEnum):
    FORWARD = "forward"
    DROP_RESPONSE = "drop_response"
    RESET_REQUEST = "reset_request"


class ProxyError(Exception):
    """A peer closed the connection or sent something this proxy does not understand."""


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 message as (head, body); the body is read by its Content-Length."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise ProxyError("no complete header block") from exc
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise ProxyError("chunked messages are not supported by this proxy")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise ProxyError("the body was cut short") from exc
    return head, body


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """``async with FaultProxy(port, plan) as proxy:`` then send to ``proxy.url``."""

    def __init__(self, upstream_port: int, plan: list[Mode]) -> None:
        self.upstream_port = upstream_port
        self.plan = list(plan)
        self.applied: Counter[Mode] = Counter()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEAD)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _next(self) -> Mode:
        return self.plan.pop(0) if self.plan else Mode.FORWARD

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        hub_r, hub_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            while True:
                head, body = await _read_message(client_r)
                mode = self._next()
                self.applied[mode] += 1
                if mode is Mode.RESET_REQUEST:
                    hub_w.write(head + body[: len(body) // 2])
                    await hub_w.drain()
                    _reset(hub_w)
                    _reset(client_w)
                    return
                hub_w.write(head + body)
                await hub_w.drain()
                response_head, response_body = await _read_message(hub_r)
                if mode is Mode.DROP_RESPONSE:
                    _reset(client_w)
                    return
                client_w.write(response_head + response_body)
                await client_w.drain()
        except (ProxyError, ConnectionError):
            pass
        finally:
            for writer in (hub_w, client_w):
                if not writer.is_closing():
                    writer.close()
