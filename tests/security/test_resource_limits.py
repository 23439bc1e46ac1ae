"""Resource limits against a real hub process: slow-header clients (slowloris), WebSocket frame
abuse, and envelopes that name 10^5 recipients or nest deeply inside the signed payload.

Every bound asserted here is behavioural, not a performance figure: a connection *is closed*
within twice the configured timeout, a WebSocket *is closed with the right code* within a few
seconds, a normal client *is served* while hundreds of hostile connections are open, and the hub's
resident memory stays within a generous cap. Huge bodies, 10^5-deep nesting of the envelope itself
and floods of requests are in tests/e2e/test_bad_input.py and tests/policy/test_ratelimit.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from yarl import URL

from pgs_hub.hub.cli.server import SHUTDOWN_TIMEOUT_SECONDS
from pgs_hub.hub.storage import tables
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, call, signature_headers
from tests.security import figures

NG, GH, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-PGS-BRUSSELS"
HEADER_TIMEOUT = 2.0  # [hub] header_timeout_seconds for these tests
SLOW_CONNECTIONS = figures.repeat(200, 600)
#: The hub may grow by this much while it holds the hostile connections (it starts near 100 MB).
RSS_GROWTH_CAP = 64 * 1024 * 1024
#: A WebSocket abused in any way below must be closed within this.
WS_CLOSE_BOUND = 5.0


def rss(pid: int) -> int:
    """Resident set size of a process, in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def restart_with_header_timeout(hub: RunningHub, seconds: float) -> None:
    assert hub.stop() == 0, hub.log.read_text()
    config = hub.home / "config.toml"
    text = config.read_text()
    assert text.count("[hub]\n") == 1
    config.write_text(text.replace("[hub]\n", f"[hub]\nheader_timeout_seconds = {seconds}\n"))
    hub.process = await start_hub(hub.home, hub.database_url, URL(hub.url).port or 0)
    await wait_healthy(hub.url, hub.process, hub.log)


# --- slow-header clients ------------------------------------------------------------------------


@dataclass
class SlowClient:
    """One connection that sends its request head one byte per tick and never finishes it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    started: float  # when the server's clock for it started (connected, or answered)
    head: bytes
    sent: int = 0
    closed_at: float | None = None

    async def wait_closed(self) -> None:
        """Read (and drop) whatever comes until the server closes the connection."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass
        self.closed_at = time.monotonic()

    def tick(self) -> None:
        if self.closed_at is None and not self.writer.is_closing():
            with contextlib.suppress(ConnectionError, RuntimeError):
                self.writer.write(self.head[self.sent : self.sent + 1])
            self.sent += 1


def slow_head(index: int) -> bytes:
    """A request head that never ends: a request line, then ever more header lines."""
    lines = b"".join(b"X-Slow-%d: %s\r\n" % (i, b"a" * 20) for i in range(200))
    return b"GET /v1/inbox?n=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n" % index + lines


async def open_slow(hub: RunningHub, index: int, *, after_a_request: bool) -> SlowClient:
    """A slow client; ``after_a_request``: one that first gets an answer on its connection
    (keep-alive) and only then starts dribbling the next request head."""
    url = URL(hub.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    started = time.monotonic()
    if after_a_request:
        writer.write(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(
            line.split(b":")[1] for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ))  # fmt: skip
        await reader.readexactly(length)
        started = time.monotonic()  # the keep-alive clock starts with the answer
    client = SlowClient(reader, writer, started, slow_head(index))
    client.tick()
    return client


async def test_slow_header_clients_are_cut_off_and_do_not_stop_others(hub: RunningHub) -> None:
    await hub.enrol(NG, "ncp")
    await hub.enrol(GH, "ncp")
    await restart_with_header_timeout(hub, HEADER_TIMEOUT)
    pid = hub.process.pid
    rss_before = rss(pid)
    clients: list[SlowClient] = []
    for batch in range(0, SLOW_CONNECTIONS, 50):  # within the listen backlog
        clients += await asyncio.gather(*(
            open_slow(hub, index, after_a_request=index % 10 == 0)
            for index in range(batch, min(batch + 50, SLOW_CONNECTIONS))
        ))  # fmt: skip
    readers = [asyncio.create_task(c.wait_closed()) for c in clients]

    async def dribble() -> None:
        while True:
            await asyncio.sleep(1.0)
            for c in clients:
                c.tick()

    dribbler = asyncio.create_task(dribble())
    served: list[float] = []
    peak = rss(pid)
    try:
        # While (nearly) all of them are open: a normal signed client is served, several times.
        open_now = sum(c.closed_at is None for c in clients)
        for _ in range(3):
            t0 = time.monotonic()
            async with hub.client(NG) as ng:
                await ng.inbox()
            served.append(time.monotonic() - t0)
            peak = max(peak, rss(pid))
        deadline = max(c.started for c in clients) + 2 * HEADER_TIMEOUT + 1.0
        await asyncio.wait(readers, timeout=max(0.0, deadline - time.monotonic()))
        peak = max(peak, rss(pid))
    finally:
        dribbler.cancel()
        for task in readers:
            task.cancel()
        for c in clients:
            c.writer.close()
    late = [
        (i, None if c.closed_at is None else round(c.closed_at - c.started, 2))
        for i, c in enumerate(clients)
        if c.closed_at is None or c.closed_at - c.started > 2 * HEADER_TIMEOUT
    ]
    lifetimes = sorted(c.closed_at - c.started for c in clients if c.closed_at is not None)
    figures.record(
        "resource limits: slow-header connections (open / not cut off)",
        tried=len(clients), accepted=len(late),
    )  # fmt: skip
    print(
        f"\n{len(clients)} slow-header connections ({open_now} open while a client was served"
        f" in {', '.join(f'{s:.2f}' for s in served)} s); closed after"
        f" {lifetimes[0]:.2f}-{lifetimes[-1]:.2f} s (timeout {HEADER_TIMEOUT} s);"
        f" hub RSS {rss_before / 2**20:.0f} -> peak {peak / 2**20:.0f} MiB"
    )
    assert open_now > SLOW_CONNECTIONS * 0.9, "the slow connections were cut before the client ran"
    assert late == [], f"not closed within 2 x {HEADER_TIMEOUT} s: {late[:20]}"
    assert peak - rss_before < RSS_GROWTH_CAP
    async with aiohttp.ClientSession() as session:
        health = await call(session, "GET", hub.url + "/v1/health")
    assert health.status == 200


# --- WebSocket frame abuse ----------------------------------------------------------------------

TEXT, BINARY, CONTINUATION, CLOSE, PING = 0x1, 0x2, 0x0, 0x8, 0x9


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> bytes:
    """One client WebSocket frame (RFC 6455 §5.2)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if masked else 0
    size = len(payload)
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@dataclass
class RawSocket:
    """A signed WebSocket connection over a plain socket, to send frames no client library
    sends (fragments, stray continuations, unmasked frames) and read the server's close code."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    texts: list[bytes] = field(default_factory=list)

    @classmethod
    async def open(cls, hub: RunningHub, who: str) -> RawSocket:
        url = URL(hub.url)
        target = f"{hub.url}/v1/stream"
        signed = signature_headers(hub.people[who].signing, "GET", target, None)
        key = base64.b64encode(os.urandom(16)).decode()
        head = (
            f"GET /v1/stream HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in signed.items())
            + "\r\n"
        )
        reader, writer = await asyncio.open_connection(url.host, url.port)
        writer.write(head.encode())
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert answer.startswith(b"HTTP/1.1 101"), answer[:200]
        return cls(reader, writer)

    async def close_code(self) -> int | None:
        """Read server frames until a close frame (its code) or the end of the connection."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                first, second = await self.reader.readexactly(2)
                size = second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(size)
                if first & 0x0F == CLOSE:
                    return int(struct.unpack("!H", payload[:2])[0]) if len(payload) >= 2 else None
                if first & 0x0F == TEXT:
                    self.texts.append(payload)
        return None

    async def send(self, data: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            self.writer.write(data)
            await self.writer.drain()


FLOOD = figures.repeat(5_000, 50_000)
#: (name, frames to send, close code expected from the hub)
WEBSOCKET_ABUSE: list[tuple[str, Callable[[], bytes], int]] = [
    ("text frame flood", lambda: frame(TEXT, b"x") * FLOOD, 1008),
    ("binary frame flood", lambda: frame(BINARY, b"\x00") * FLOOD, 1008),
    # aiohttp answers pings by itself unless told not to: the stream counts them (regression).
    ("ping flood", lambda: frame(PING, b"p") * FLOOD, 1008),
    ("text frame over max_msg_size", lambda: frame(TEXT, b"x" * 5000), 1009),
    ("binary frame over max_msg_size", lambda: frame(BINARY, b"\x00" * 70_000), 1009),
    ("fragments adding up over max_msg_size",
     lambda: frame(TEXT, b"x" * 1000, fin=False)
     + frame(CONTINUATION, b"x" * 1000, fin=False) * 10, 1009),
    ("one-byte fragments adding up over max_msg_size",
     lambda: frame(TEXT, b"x", fin=False) + frame(CONTINUATION, b"x", fin=False) * 5000, 1009),
    ("continuation frame without a start", lambda: frame(CONTINUATION, b"x"), 1002),
    ("new message inside a fragmented one",
     lambda: frame(TEXT, b"x", fin=False) + frame(TEXT, b"y"), 1002),
    ("ping with a 200-byte payload", lambda: frame(PING, b"p" * 200), 1002),
    ("fragmented ping", lambda: frame(PING, b"p", fin=False), 1002),
]  # fmt: skip


async def send_alert(hub: RunningHub) -> str:
    async with hub.client(NG) as ng:
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
        )
    return sealed.header.mid


async def test_websocket_frame_abuse_is_closed_with_the_right_code_and_others_go_on(
    hub: RunningHub,
) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    pid = hub.process.pid
    rss_before = rss(pid)
    good = await RawSocket.open(hub, GH)  # a well-behaved stream all along
    good_reader = asyncio.create_task(good.close_code())
    sent = [await send_alert(hub)]

    slowest = 0.0

    async def abuse(name: str, frames: Callable[[], bytes], expected: int) -> str | None:
        nonlocal slowest
        ws = await RawSocket.open(hub, WCO)
        t0 = time.monotonic()
        await ws.send(frames())
        try:
            code = await asyncio.wait_for(ws.close_code(), WS_CLOSE_BOUND)
        except TimeoutError:
            return f"{name}: not closed within {WS_CLOSE_BOUND} s"
        finally:
            ws.writer.close()
        slowest = max(slowest, time.monotonic() - t0)
        return None if code == expected else f"{name}: close code {code}, expected {expected}"

    peak = rss_before
    wrong: list[str] = []
    for round_ in range(figures.repeat(1, 5)):
        # All the abuse at once, while alerts keep flowing to the good stream.
        results: list[Awaitable[str | None]] = [abuse(*case) for case in WEBSOCKET_ABUSE]
        outcome = await asyncio.gather(*results, send_alert(hub))
        sent.append(outcome[-1])
        wrong += [r for r in outcome[:-1] if isinstance(r, str)]
        peak = max(peak, rss(pid))
        del round_
    sent.append(await send_alert(hub))
    deadline = time.monotonic() + 10
    while len(good.texts) < len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    good_reader.cancel()
    good.writer.close()
    received = [json.loads(t)["mid"] for t in good.texts]
    tried = len(WEBSOCKET_ABUSE) * figures.repeat(1, 5)
    figures.record(
        "resource limits: WebSocket frame abuse (connections / not closed right)",
        tried=tried, accepted=len(wrong),
    )  # fmt: skip
    print(
        f"\n{tried} abusive WebSocket connections, each closed within {slowest:.2f} s;"
        f" the good stream got {len(received)} of"
        f" {len(sent)} alerts; hub RSS {rss_before / 2**20:.0f} -> peak {peak / 2**20:.0f} MiB"
    )
    assert wrong == []
    assert received == sent, "the well-behaved stream missed or reordered items"
    assert peak - rss_before < RSS_GROWTH_CAP
    assert "unexpected error" not in hub.log.read_text()


# --- 10^5 recipients, deep nesting inside the payload -------------------------------------------


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rewrap(raw: bytes, edit: Callable[[dict[str, Any]], bytes]) -> bytes:
    """The envelope with its JWS payload (the JWE JSON) replaced by ``edit(jwe)``; the JWS
    signature is left as it was (refusals must come before any signature check)."""
    jws = json.loads(raw)
    jws["payload"] = b64u(edit(json.loads(unb64u(jws["payload"]))))
    return json.dumps(jws).encode()


def many_jwe_recipients(jwe: dict[str, Any]) -> bytes:
    return json.dumps(jwe | {"recipients": [{}] * 100_000}).encode()


def many_routed_recipients(jwe: dict[str, Any]) -> bytes:
    protected = json.loads(unb64u(jwe["protected"]))
    protected["pgs"]["to"] = [{"id": f"X{i}", "kid": "k"} for i in range(100_000)]
    return json.dumps(jwe | {"protected": b64u(json.dumps(protected).encode())}).encode()


def nested_payload(_jwe: dict[str, Any]) -> bytes:
    return b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def nested_protected_header(jwe: dict[str, Any]) -> bytes:
    deep = b'{"pgs":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    return json.dumps(jwe | {"protected": b64u(deep)}).encode()


async def chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 65536):
        yield body[start : start + 65536]


def tiny_values(raw: bytes) -> bytes:
    """Two million JSON values in under 6 MB, beside a real envelope's members: parsing and
    walking them took the hub's event loop 2-3 s before the cap on JSON values."""
    return raw[:-1] + b',"x":[' + b"1," * 2_000_000 + b"1]}"


HUGE_ENVELOPES: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("JWE with 10^5 recipients", lambda raw: rewrap(raw, many_jwe_recipients), "crypto.oversize"),
    ("routing header naming 10^5 recipients", lambda raw: rewrap(raw, many_routed_recipients),
     "crypto.oversize"),
    ("JWS payload nested 10^5 deep", lambda raw: rewrap(raw, nested_payload), "crypto.oversize"),
    ("JWE protected header nested 5x10^4 deep", lambda raw: rewrap(raw, nested_protected_header),
     "crypto.oversize"),
    ("2x10^6 JSON values beside the envelope", tiny_values, "crypto.oversize"),
]  # fmt: skip


async def test_envelopes_with_huge_recipient_lists_or_deep_nesting_are_refused_in_bounded_time(
    hub: RunningHub,
) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    async with hub.client(NG) as ng:
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
        )
    engine = create_engine(hub.database_url)

    async def stored() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(tables.envelopes)))
                       .scalar())  # fmt: skip

    wrong: list[str] = []
    try:
        before = await stored()
        async with aiohttp.ClientSession() as session:
            for name, build, code in HUGE_ENVELOPES:
                body = build(sealed.raw)
                t0 = time.monotonic()
                reply = await call(session, "POST", hub.url + "/v1/envelopes",
                                   body=chunks(body), content_type=JOSE)  # fmt: skip
                took = time.monotonic() - t0
                print(f"\n{name}: {len(body)} bytes, {reply.status} {reply.code} in {took:.2f} s")
                if reply.status >= 500 or not reply.is_problem or reply.code != code:
                    wrong.append(f"{name}: {reply.status} {reply.body[:200]!r}")
                elif took > 10:
                    wrong.append(f"{name}: answered after {took:.1f} s")
            health = await call(session, "GET", hub.url + "/v1/health")
        after = await stored()
    finally:
        await engine.dispose()
    figures.record(
        "resource limits: 10^5 recipients, deep nesting (envelopes / accepted)",
        tried=len(HUGE_ENVELOPES), accepted=len(wrong),
    )  # fmt: skip
    assert wrong == []
    assert after == before, "a refused envelope was stored"
    assert health.status == 200


async def test_shutdown_closes_open_streams_cleanly(hub: RunningHub) -> None:
    """SIGTERM with streams open: each client gets 1001 "going away" (not an abnormal 1006), and
    the hub exits 0 by itself instead of waiting out its shutdown timeout (regression: streams
    never end on their own, so shutdown used to wait for them and then cut them)."""
    await hub.enrol(NG, "ncp")
    await hub.enrol(GH, "ncp")
    streams = [await RawSocket.open(hub, who) for who in (NG, GH, NG)]
    codes = [asyncio.create_task(s.close_code()) for s in streams]
    await asyncio.sleep(0.2)  # let the hub register the streams
    hub.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(hub.process.wait, SHUTDOWN_TIMEOUT_SECONDS) == 0
    assert await asyncio.gather(*codes) == [1001, 1001, 1001]
    for s in streams:
        s.writer.close()
