"""Suspension and revocation take effect everywhere at once, on a real hub (SQLite and PostgreSQL;
on PostgreSQL the streams are held by a second hub process, so the closing crosses processes).

A country suspended by ``policy.toml`` + SIGHUP can no longer list its inbox, fetch envelopes,
post receipts, get a console link, use a console session it already had, or open a stream; a
stream it already had is closed with 1008. ``pgs admin suspend`` / ``revoke`` (the admin API)
close the participant's open streams the same way. Streams are configured to re-read their
mailbox only once an hour, so only the hub's own wake-up can close them within the test.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.storage import console_sessions
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, sign_receipt
from tests.e2e.harness import RunningHub, another_process, launch
from tests.e2e.messages import example
from tests.e2e.rawhttp import call, signature_headers

NG, GH, CM, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "WCO-PGS-BRUSSELS"
CLOSE_WAIT_SECONDS = 15.0  # far below the streams' hour-long recheck: only a wake-up closes them


async def open_stream(
    session: aiohttp.ClientSession, hub: RunningHub, who: str
) -> aiohttp.ClientWebSocketResponse:
    url = f"{hub.url}/v1/stream"
    headers = signature_headers(hub.people[who].signing, "GET", url, None)
    return await session.ws_connect(url, headers=headers)


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
    """Read until the hub closes the stream; its close code and reason."""
    while True:
        msg = await ws.receive(timeout=CLOSE_WAIT_SECONDS)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code, str(msg.extra or "")
        if msg.type is aiohttp.WSMsgType.ERROR:  # pragma: no cover - reported by the assert
            return None, str(msg.data)


async def console_session(hub: RunningHub, who: str) -> str:
    """A console session of ``who``, opened in the database as a sign-in opens one."""
    engine = create_engine(hub.database_url)
    try:
        async with engine.begin() as conn:
            opened = await console_sessions.open_session(conn, who, int(time.time()))
    finally:
        await engine.dispose()
    return opened.id


async def console_status(session: aiohttp.ClientSession, hub: RunningHub, cookie: str) -> int:
    headers = {"Cookie": f"{sessions.COOKIE}={cookie}"}
    async with session.get(f"{hub.url}/console/log", headers=headers) as resp:
        await resp.read()
        return resp.status


def set_suspended(hub: RunningHub, countries: str, processes: list[RunningHub]) -> None:
    policy = hub.home / "policy.toml"
    lines = [
        f"suspended_countries = [{countries}]" if line.startswith("suspended_countries") else line
        for line in policy.read_text().splitlines()
    ]
    policy.write_text("\n".join(lines) + "\n")
    for process in processes:
        process.process.send_signal(signal.SIGHUP)


async def test_suspension_and_revocation_take_effect_everywhere(
    database_url: str, tmp_path: Path
) -> None:
    hub = await launch(tmp_path / "home", database_url, stream={"recheck_seconds": 3600})
    processes = [hub]
    try:
        if database_url.startswith("postgresql"):
            processes.append(await another_process(hub, "hub-2.log"))
        streams_at = processes[-1]  # the streams live where the admin call does not go
        for pid in (NG, GH, CM):
            await hub.enrol(pid, "ncp")
        await hub.enrol(WCO, "wco")
        async with hub.client(NG) as ng:
            sealed, _ = await ng.send(
                kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
            )
        mid = sealed.header.mid
        async with aiohttp.ClientSession() as session:
            streams = {who: await open_stream(session, streams_at, who) for who in (GH, NG, CM)}
            first = await streams[GH].receive(timeout=CLOSE_WAIT_SECONDS)
            assert first.type is aiohttp.WSMsgType.TEXT, first  # GH's stream is live
            cookie = await console_session(hub, GH)
            assert await console_status(session, hub, cookie) == 200

            # --- a country suspended by the policy, reloaded with SIGHUP ---
            set_suspended(hub, '"GH"', processes)
            assert await closed_with(streams[GH]) == (1008, "country.suspended")
            key = hub.people[GH].signing
            answers = {
                "inbox": await call(session, "GET", f"{hub.url}/v1/inbox", key=key),
                "fetch": await call(session, "GET", f"{hub.url}/v1/envelopes/{mid}", key=key),
                "receipt": await call(
                    session,
                    "POST",
                    f"{hub.url}/v1/envelopes/{mid}/receipts",
                    key=key,
                    body=sign_receipt(
                        make_receipt(
                            envelope=sealed.raw,
                            mid=mid,
                            status=ReceiptStatus.DELIVERED,
                            by=GH,
                            at=datetime.fromtimestamp(int(time.time()), UTC),
                        ),
                        key,
                    ),
                    content_type="application/jose+json",
                ),
                "console link": await call(
                    session,
                    "POST",
                    f"{hub.url}/v1/console/login-links",
                    key=key,
                    body=b"",
                    content_type="application/json",
                ),
            }
            for what, reply in answers.items():
                assert (reply.status, reply.code) == (403, "country.suspended"), what
            stream_url = f"{streams_at.url}/v1/stream"
            try:
                await session.ws_connect(
                    stream_url, headers=signature_headers(key, "GET", stream_url, None)
                )
                refused_stream = 101
            except aiohttp.WSServerHandshakeError as exc:
                refused_stream = exc.status
            assert refused_stream == 403
            assert await console_status(session, hub, cookie) == 401  # the session is over

            # Reinstating the country lets GH in again, but its old console session stays closed.
            set_suspended(hub, "", processes)
            for _ in range(100):  # the reload is asynchronous
                inbox = await call(session, "GET", f"{hub.url}/v1/inbox", key=key)
                if inbox.status == 200:
                    break
                await asyncio.sleep(0.1)
            assert inbox.status == 200
            assert await console_status(session, hub, cookie) == 401

            # --- pgs admin suspend / revoke, through another process than the streams' ---
            ng_cookie = await console_session(hub, NG)
            async with hub.client(hub.admin) as admin:
                await admin.set_status(NG, "suspend")
                assert await closed_with(streams[NG]) == (1008, "participant.suspended")
                await admin.set_status(NG, "reinstate")
                assert await console_status(session, hub, ng_cookie) == 401  # ended by suspend
                await admin.set_status(CM, "revoke")
                assert await closed_with(streams[CM]) == (1008, "participant.revoked")
    finally:
        for process in reversed(processes):
            assert process.stop() == 0, process.log.read_text()
