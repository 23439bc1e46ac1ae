"""Back-pressure on the WebSocket stream, against a real hub process over real sockets, on SQLite
and PostgreSQL: clients that stop reading never delay the others and never make the hub keep
what they do not take.

The slow clients are raw WebSocket connections: a handshake, then not one byte read, with a small
receive buffer (and a small read-ahead in the test process), so the hub's writes back up at once.
The hub runs with ``[stream] buffer_bytes = 4096`` and ``send_timeout_seconds = 2`` so that it
gives up on them quickly; nothing below measures how quickly.

The evidence of back-pressure is what the clients see: the well-behaved stream gets everything,
each slow one gets only what the buffers between it and the hub held (a fraction of what was
sent) before the hub closes it, and then resumes from its cursor and gets the rest exactly once.
The hub's peak RSS is also held under a bound derived from what the design lets it keep per slow
stream; at this test's volume that bound guards against gross growth (a hub that kept every
frame for a client that never reads, in a soak), not against a few MiB.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import socket
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, launch
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, signature_headers

SENDER = "NG-NCP-LAGOS"
NORMAL = "WCO-PGS-BRUSSELS"
SLOW = tuple(f"GH-SLOW-{n}" for n in range(1, 5))
STREAMS_EACH = 8  # slow connections per slow participant
WARM_UP = 60  # messages before the slow clients connect (the hub's caches and pools fill)
LIVE = 240  # messages while they do not read
BUFFER_BYTES = 4096
WITHIN = 120.0  # failure detector only

# What the hub may hold for one slow stream (hub/server/stream.py): unsent frames up to twice
# buffer_bytes (aiohttp's writer limit and the transport's high-water mark), and the page of items
# it was sending, at most PAGE = 200 items of about 1.7 KiB each as Python objects (measured with
# tracemalloc on items like these). On top: 24 MiB for the hub's own working set to move (the
# allocator, SQLAlchemy's caches, the submissions themselves), after the warm-up.
PER_STREAM_BYTES = 2 * BUFFER_BYTES + 200 * 1750
ALLOWANCE_BYTES = 24 << 20


def _status_kib(pid: int, name: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    raise AssertionError(f"no {name} in /proc/{pid}/status")


def reset_peak_rss(pid: int) -> int:
    """Reset the process's peak RSS (VmHWM) to its current RSS; returns that RSS in bytes."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as control:
        control.write("5")
    return _status_kib(pid, "VmRSS") * 1024


def peak_rss(pid: int) -> int:
    return _status_kib(pid, "VmHWM") * 1024


@dataclass
class SlowClient:
    """A signed WebSocket upgrade on a socket with a small receive buffer; then nothing is read
    until :meth:`read_what_came` (which reads whatever the connection still delivers)."""

    who: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    items: list[dict[str, Any]] = field(default_factory=list)
    ended_by: str = ""

    @classmethod
    async def connect(cls, hub: RunningHub, who: str, after: int) -> SlowClient:
        url = f"{hub.url}/v1/stream?after={after}"
        host, port = hub.url.removeprefix("http://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # set before connecting
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        # limit: the test process itself reads ahead at most a few KiB from the socket.
        reader, writer = await asyncio.open_connection(sock=sock, limit=2048)
        headers = {
            "Host": f"{host}:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": base64.b64encode(secrets.token_bytes(16)).decode(),
            "Sec-WebSocket-Version": "13",
            **signature_headers(hub.people[who].signing, "GET", url, None),
        }  # fmt: skip
        head = f"GET /v1/stream?after={after} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(f"{head}\r\n".encode())
        answer = await reader.readuntil(b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 101"), answer
        return cls(who, reader, writer)

    async def read_what_came(self) -> None:
        """Read frames until the hub's close frame or the end of the connection."""
        try:
            while True:
                first, second = await self.reader.readexactly(2)
                opcode, length = first & 0x0F, second & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(length)
                if opcode == 0x8:
                    self.ended_by = f"close {struct.unpack('!H', payload[:2])[0]}"
                    return
                if opcode == 0x1:
                    self.items.append(json.loads(payload))
        except (asyncio.IncompleteReadError, ConnectionResetError):
            self.ended_by = "connection ended"  # the hub dropped it; a frame may be cut short
        finally:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def too_slow_count(session: aiohttp.ClientSession, hub: RunningHub) -> int:
    async with session.get(f"{hub.url}/metrics") as resp:
        found = re.search(r"^pgs_websocket_too_slow_total (\S+)$", await resp.text(), re.M)
    return int(float(found.group(1))) if found else 0


async def submit_all(hub: RunningHub, count: int) -> list[str]:
    """``count`` alerts to the normal and every slow participant, eight submissions at a time."""
    async with hub.client(SENDER) as client:
        keys = {pid: await client.recipient_key(pid) for pid in (NORMAL, *SLOW)}
    now = int(time.time())
    sealed = [
        seal_message(
            sender_id=SENDER,
            signer=hub.people[SENDER].signing,
            recipients=list(keys.items()),
            kind=MessageKind.ALERT,
            content=example(MessageKind.ALERT),
            tlp=Tlp.AMBER,
            now=now,
        )
        for _ in range(count)
    ]
    gate = asyncio.Semaphore(8)
    async with aiohttp.ClientSession() as session:

        async def submit(raw: bytes) -> None:
            async with (
                gate,
                session.post(
                    f"{hub.url}/v1/envelopes", data=raw, headers={"Content-Type": JOSE}
                ) as resp,
            ):
                assert resp.status == 201, await resp.text()

        await asyncio.gather(*(submit(s.raw) for s in sealed))
    return [s.header.mid for s in sealed]


@dataclass
class Follower:
    """A well-behaved stream (the client SDK), collecting everything."""

    hub: RunningHub
    who: str
    after: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)

    async def run(self) -> None:
        async with self.hub.client(self.who) as client:
            async for item in client.stream(self.after):
                self.items.append(item.wire())

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + WITHIN
        while len(self.items) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{self.who}'s stream got {len(self.items)} of {count} items")
            await asyncio.sleep(0.05)
        return self.items


@contextlib.asynccontextmanager
async def following(follower: Follower) -> AsyncIterator[Follower]:
    task = asyncio.create_task(follower.run())
    try:
        yield follower
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def latest_cursor(hub: RunningHub, who: str) -> int:
    async with hub.client(who) as client:
        after = 0
        while (page := await client.inbox(after=after, limit=500)).items:
            after = int(page.next)
    return after


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    running = await launch(
        tmp_path / "home", database_url,
        stream={"send_timeout_seconds": 2, "buffer_bytes": BUFFER_BYTES},
    )  # fmt: skip
    try:
        yield running
    finally:
        code = running.stop()
        log = running.log.read_text()
        assert code == 0, f"the hub did not stop cleanly ({code}):\n{log}"
        assert "Traceback" not in log, log


async def test_clients_that_stop_reading_delay_nobody_and_cost_bounded_memory(
    hub: RunningHub,
) -> None:
    for pid in (SENDER, *SLOW):
        await hub.enrol(pid, "ncp")
    await hub.enrol(NORMAL, "wco")
    pid = hub.process.pid
    slow: list[SlowClient] = []
    try:
        async with following(Follower(hub, NORMAL)) as normal, aiohttp.ClientSession() as session:
            warm = await submit_all(hub, WARM_UP)
            await normal.wait_for(WARM_UP)
            starts = {who: await latest_cursor(hub, who) for who in SLOW}
            for who in SLOW:
                for _ in range(STREAMS_EACH):
                    slow.append(await SlowClient.connect(hub, who, starts[who]))
            baseline = reset_peak_rss(pid)

            live = await submit_all(hub, LIVE)
            # The well-behaved stream gets every message, the slow ones notwithstanding.
            got = [i["mid"] for i in await normal.wait_for(WARM_UP + LIVE)]
            # Each once (they were submitted concurrently, so in any order within a batch).
            assert Counter(got[:WARM_UP]) == Counter(warm)
            assert Counter(got[WARM_UP:]) == Counter(live)
            # The hub gives up on every slow stream ...
            deadline = time.monotonic() + WITHIN
            while await too_slow_count(session, hub) < len(slow):
                assert time.monotonic() < deadline, hub.log.read_text()
                await asyncio.sleep(0.2)
            growth = peak_rss(pid) - baseline
            assert await too_slow_count(session, hub) == len(slow)  # and only on them

        # ... having kept for them no more than the bound, all along.
        bound = ALLOWANCE_BYTES + len(slow) * PER_STREAM_BYTES
        assert growth < bound, f"peak RSS grew by {growth >> 20} MiB (bound {bound >> 20} MiB)"
        assert "closed the stream of GH-SLOW-1" in hub.log.read_text()

        # What reached each slow client is what its buffers held, a fraction of what was sent
        # (the rest waits in its mailbox); it resumes from the last item it got, and then has
        # every message exactly once, in cursor order.
        for client in slow:
            await asyncio.wait_for(client.read_what_came(), WITHIN)
            assert client.ended_by in {"close 1013", "connection ended"}, client.ended_by
            assert len(client.items) < LIVE, "the hub pushed everything: no back-pressure"
            last = client.items[-1]["cursor"] if client.items else starts[client.who]
            async with following(Follower(hub, client.who, last)) as resumed:
                rest = await resumed.wait_for(LIVE - len(client.items))
            mids = Counter(i["mid"] for i in client.items + rest)
            assert mids == Counter(live), f"{client.who}: {len(mids)} distinct of {LIVE}"
            cursors = [i["cursor"] for i in client.items + rest]
            assert cursors == sorted(set(cursors))
    finally:
        for client in slow:
            client.writer.close()


def test_the_rss_probe_works() -> None:
    """The bound above rests on /proc's peak RSS and its reset (Linux >= 4.0)."""
    before = reset_peak_rss(os.getpid())
    ballast = bytearray(64 << 20)
    ballast[::4096] = b"\x01" * len(ballast[::4096])
    assert peak_rss(os.getpid()) - before >= 60 << 20
    del ballast
