"""Hostile and careless clients (issue 12, item 5), against real hub processes over sockets.

* a per-participant submission limit shared by every process on the database (429, Retry-After);
* a body sent too slowly is cut off (408) and the connection closed;
* malformed HTTP gets a problem document that repeats nothing of the input, logged at INFO with
  no traceback; a client hanging up mid-body is logged as such, not as a database fault;
* liveness apart from readiness; an inclusion proof index out of range is a 400;
* an envelope whose JWE ``epk`` is a low-order X25519 point is refused at submission.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.crypto import jws
from pgs_hub.hub.auth.httpsig import sign_request
from pgs_hub.protocols.envelope import PGS_PROFILE, seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, another_process, launch
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, call

NG, GH, AUDITOR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-AUDIT"
LIMIT = 5


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _seal(hub: RunningHub, sender: str, to: str) -> bytes:
    async with hub.client(sender) as client:
        key = await client.recipient_key(to)
    return seal_message(
        sender_id=sender, signer=hub.people[sender].signing, recipients=[(to, key)],
        kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.AMBER,
        now=int(time.time()),
    ).raw  # fmt: skip


async def _raw_exchange(hub: RunningHub, request: bytes, *, trickle: float = 0.0) -> bytes:
    """Send ``request`` on a fresh connection (one byte every ``trickle`` seconds after the
    head, if given) and return the hub's whole answer."""
    host, port = hub.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        answer = b""
        if trickle:
            head, _, body = request.partition(b"\r\n\r\n")
            writer.write(head + b"\r\n\r\n")
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                try:  # wait for the next byte's turn, or for the answer
                    answer = await asyncio.wait_for(reader.read(65536), timeout=trickle)
                except TimeoutError:
                    continue
                break
        else:
            writer.write(request)
            await writer.drain()
        while not _complete(answer):
            chunk = await asyncio.wait_for(reader.read(65536), timeout=60)
            if not chunk:
                break
            answer += chunk
        return answer
    finally:
        writer.close()


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole response (head and Content-Length bytes of body)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


async def _a_signed_part_trickled_is_cut_off(hub: RunningHub) -> None:
    """A PATCH that passes every check of its head (signed, to its sender's own upload, at the
    right offset) and then trickles its body gets the body deadline, and stores nothing."""
    body = b"x" * 200
    async with aiohttp.ClientSession() as session:
        made = await call(
            session, "POST", f"{hub.url}/v1/uploads", key=hub.people[NG].signing,
            headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(body))},
        )  # fmt: skip
    assert made.status == 201
    path = made.headers["Location"]
    fields = {
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
    }  # fmt: skip
    fields |= sign_request(
        method="PATCH", url=hub.url + path, headers=fields, body=body,
        key=hub.people[NG].signing, now=int(time.time()),
    )  # fmt: skip
    host = hub.url.removeprefix("http://")
    head = f"PATCH {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    answer = await _raw_exchange(hub, head.encode() + b"\r\n" + body, trickle=0.2)
    status, _, doc = _status_and_doc(answer)
    assert (status, doc["code"]) == (408, "request.timeout")
    async with aiohttp.ClientSession() as session:
        where = await call(
            session, "HEAD", hub.url + path, key=hub.people[NG].signing,
            headers={"Tus-Resumable": "1.0.0"},
        )  # fmt: skip
    assert where.headers["Upload-Offset"] == "0"


def _status_and_doc(answer: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body) if body else {}


async def _log_line(hub: RunningHub, needle: str) -> str:
    """The hub's log once it holds ``needle`` (the hub logs after answering)."""
    for _ in range(100):
        text = hub.log.read_text(errors="replace")
        if needle in text:
            return text
        await asyncio.sleep(0.1)
    pytest.fail(f"{needle!r} never reached the log:\n{hub.log.read_text()}")


@pytest.fixture
async def sqlite_hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    """One hub on SQLite with a 1-second body timeout (the rules tested here are not storage's)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    hub = await launch(tmp_path / "home", url, hub_settings={"body_timeout_seconds": 1})
    try:
        yield hub
    finally:
        assert hub.stop() == 0, hub.log.read_text()


async def test_malformed_slow_and_hung_up_requests_low_order_epk_proofs_health(
    sqlite_hub: RunningHub,
) -> None:
    """Malformed HTTP, slow bodies and hang-ups; then, on the same hub (one hub start less),
    low-order epk, out-of-range proofs and health (:func:`_envelopes_proofs_and_health`)."""
    hub = sqlite_hub
    canary = "CANARY-INPUT-7f3a"
    # A bad header line: a problem document that repeats nothing, and one INFO line.
    answer = await _raw_exchange(
        hub, f"GET /v1/health HTTP/1.1\r\nHost: x\r\nBad Header {canary}: y\r\n\r\n".encode()
    )
    status, headers, doc = _status_and_doc(answer)
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    assert doc["code"] == "http.malformed"
    assert canary not in answer.decode("latin-1")
    # A bad request line.
    answer = await _raw_exchange(hub, f"GET /v1/{canary} HTTP/9.Z\r\n\r\n".encode())
    status, _, doc = _status_and_doc(answer)
    assert (status, doc["code"]) == (400, "http.malformed")
    assert canary not in answer.decode("latin-1")

    # A body trickled one byte at a time is cut off after the body timeout.
    body = b"{" + b" " * 200 + b"}"
    head = (
        f"POST /v1/envelopes HTTP/1.1\r\nHost: x\r\nContent-Type: {JOSE}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    answer = await _raw_exchange(hub, head + body, trickle=0.2)
    status, _, doc = _status_and_doc(answer)
    assert (status, doc["code"]) == (408, "request.timeout")
    # On every route that takes a body (a console form here), before anything else is checked.
    form_head = head.replace(b"/v1/envelopes", b"/console/logout").replace(
        JOSE.encode(), b"application/x-www-form-urlencoded"
    )
    answer = await _raw_exchange(hub, form_head + body, trickle=0.2)
    status, _, doc = _status_and_doc(answer)
    assert (status, doc["code"]) == (408, "request.timeout")
    # The one route that streams its body itself (a tus PATCH) decides from the head first: an
    # unsigned one is refused before its body is waited for (the signed one's deadline is
    # tested below, once there are participants and an upload to send to).
    patch_head = (
        f"PATCH /v1/uploads/{'u' * 22} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    answer = await _raw_exchange(hub, patch_head + body, trickle=0.2)
    status, _, doc = _status_and_doc(answer)
    assert (status, doc["code"]) == (401, "auth.missing_signature")

    # A client that hangs up mid-body.
    _, writer = await asyncio.open_connection(*hub.url.removeprefix("http://").split(":"))
    writer.write(head + body[:10])
    await writer.drain()
    writer.close()
    log = await _log_line(hub, "closed the connection before the request was complete")
    log = await _log_line(hub, "malformed HTTP request from")
    assert "database unavailable" not in log
    assert canary not in log
    assert "Traceback" not in log
    assert " ERROR " not in log
    await _envelopes_proofs_and_health(hub)


async def _envelopes_proofs_and_health(hub: RunningHub) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    await hub.enrol(AUDITOR, "auditor")
    await _a_signed_part_trickled_is_cut_off(hub)
    # An envelope whose epk is the all-zero X25519 point, properly signed by its sender.
    envelope = json.loads(await _seal(hub, NG, GH))
    encrypted = json.loads(_unb64(envelope["payload"]))
    encrypted["recipients"][0]["header"]["epk"]["x"] = _b64(bytes(32))
    payload = json.dumps(encrypted, separators=(",", ":")).encode()
    forged = jws.sign(payload, hub.people[NG].signing, typ=PGS_PROFILE.jws_typ)
    async with aiohttp.ClientSession() as session:
        reply = await call(session, "POST", f"{hub.url}/v1/envelopes", body=forged,
                           content_type=JOSE)  # fmt: skip
        assert (reply.status, reply.code) == (400, "crypto.low_order_key")
        assert "low-order" in reply.problem()["detail"]
        inbox = await call(session, "GET", f"{hub.url}/v1/inbox", key=hub.people[GH].signing)
        assert inbox.json()["items"] == []  # nothing queued

        # Proofs: an index past the end of the log is a bad request, not a missing entry.
        auditor = hub.people[AUDITOR].signing
        reply = await call(
            session, "GET", f"{hub.url}/v1/audit/proof/inclusion?index=999999", key=auditor
        )
        assert (reply.status, reply.code) == (400, "log.index_out_of_range")
        reply = await call(session, "GET", f"{hub.url}/v1/audit/proof/inclusion?index=0",
                           key=auditor)  # fmt: skip
        assert reply.status == 200

        # Liveness and readiness apart; /v1/health still answers (readiness).
        for path, expected in (("live", "alive"), ("ready", "ok")):
            reply = await call(session, "GET", f"{hub.url}/v1/health/{path}")
            assert (reply.status, reply.json()["status"]) == (200, expected)
        reply = await call(session, "GET", f"{hub.url}/v1/health")
        assert (reply.status, reply.json()["database"]) == (200, "ok")


async def test_the_submission_limit_holds_across_hub_processes(
    database_url: str, tmp_path: Path
) -> None:
    """Two processes on one database: together they accept at most LIMIT submissions a minute
    from one participant; the rest get 429 with Retry-After."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several hub processes share a PostgreSQL database only (pgs serve --workers)")
    hub = await launch(
        tmp_path / "home", database_url, config=f"[limits]\nsubmissions_per_minute = {LIMIT}\n"
    )
    other = None
    try:
        other = await another_process(hub, "hub-2.log")
        for pid in (NG, GH):
            await hub.enrol(pid, "ncp")
        # Three times the limit, alternately through each process: even if a minute ends during
        # the run (two windows), at least LIMIT are refused.
        envelopes = [await _seal(hub, NG, GH) for _ in range(3 * LIMIT)]
        accepted: list[int] = []
        limited: list[str] = []
        async with aiohttp.ClientSession() as session:
            for n, raw in enumerate(envelopes):
                url = (hub if n % 2 else other).url
                reply = await call(session, "POST", f"{url}/v1/envelopes", body=raw,
                                   content_type=JOSE)  # fmt: skip
                if reply.status == 201:
                    accepted.append(int(reply.json()["accepted_at"]) // 60)
                else:
                    assert (reply.status, reply.code) == (429, "rate.submissions"), reply.body
                    assert 1 <= int(reply.headers["Retry-After"]) <= 60
                    limited.append(reply.headers["Retry-After"])
        # Counted once for both processes: never more than LIMIT in a minute (each process
        # counting for itself would accept 2 * LIMIT).
        assert all(accepted.count(window) <= LIMIT for window in set(accepted)), accepted
        assert len(accepted) >= LIMIT
        assert len(limited) >= LIMIT
    finally:
        if other is not None:
            assert other.stop() == 0, other.log.read_text()
        assert hub.stop() == 0, hub.log.read_text()
