"""A degraded link on loopback: a TCP relay that throttles each direction to a fixed rate and
resets the connection each time the bytes it has carried (both directions together) cross
another multiple of ``drop_every`` — a border post's link that keeps dropping.

Unlike tests/faults/proxy.py it cuts wherever the bytes are, in the middle of a request head, a
body or a response. It reads the requests only to count, apart, the body bytes that crossed the
link towards the hub (``upstream_body``: what a transfer really sent, heads aside). Resets are
real TCP RSTs (``SO_LINGER`` 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time

PIECE = 4096


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Cut(Exception):
    """The link dropped."""


class _BodyCounter:
    """Follows HTTP/1.1 requests (Content-Length bodies) in one connection's upstream bytes."""

    def __init__(self) -> None:
        self.head = b""
        self.left = 0  # body bytes still to come in the current request

    def feed(self, data: bytes) -> int:
        """How many of ``data``'s bytes are request body."""
        counted = 0
        while data:
            if self.left:
                take = min(self.left, len(data))
                counted += take
                self.left -= take
                data = data[take:]
                continue
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return counted
            head, data = self.head[: end + 4], self.head[end + 4 :]
            self.head = b""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.left = int(value.strip())
        return counted


class SlowLink:
    """``async with SlowLink(port, rate=..., drop_every=...) as link:`` then use ``link.url``."""

    def __init__(self, upstream_port: int, *, rate: float, drop_every: int) -> None:
        self.upstream_port = upstream_port
        self.rate = rate  # bytes per second, each direction
        self.drop_every = drop_every
        self.carried = 0  # both directions
        self.upstream = 0  # client -> hub only
        self.upstream_body = 0  # of which request bodies
        self.drops = 0
        self.connections = 0
        self._next_drop = drop_every
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> SlowLink:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, up: bool
    ) -> None:
        bodies = _BodyCounter()
        clock = time.monotonic()
        while data := await reader.read(PIECE):
            room = self._next_drop - self.carried
            cut = len(data) >= room
            if cut:
                data = data[:room]
            # Throttle: this direction may not run ahead of `rate` bytes per second.
            clock = max(clock, time.monotonic()) + len(data) / self.rate
            await asyncio.sleep(max(0.0, clock - time.monotonic()))
            writer.write(data)
            await writer.drain()
            self.carried += len(data)
            if up:
                self.upstream += len(data)
                self.upstream_body += bodies.feed(data)
            if cut:
                self._next_drop += self.drop_every
                self.drops += 1
                raise _Cut

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            hub_r, hub_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            _reset(client_w)
            return
        pumps = [
            asyncio.ensure_future(self._pump(client_r, hub_w, up=True)),
            asyncio.ensure_future(self._pump(hub_r, client_w, up=False)),
        ]
        cut = False
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            cut = any(t.exception() is not None for t in done if not t.cancelled())
            if not cut:  # one side closed: let the other finish what it was sending
                await asyncio.wait(pumps, timeout=5)
        except (ConnectionError, OSError, asyncio.CancelledError):
            cut = True  # the link itself is closing
        finally:
            for task in pumps:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(BaseException):
                    await task
            for writer in (hub_w, client_w):
                if cut:
                    _reset(writer)
                elif not writer.is_closing():
                    writer.close()
