"""Refusals on the record (issue 12, item 4): every refusal is a security event, counted per actor
(participant, or remote address when nobody was authenticated), reason code, action and minute;
a flood adds a bounded number of rows and nothing to the transparency log; auditors read them
(API, ``pgs audit events``), a country auditor only its country's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import audit_records
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, call, signature_headers

NG, GH, AUDITOR, GH_AUDITOR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-AUDIT", "GH-AUDIT"
FLOOD = 40


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only for the hub here (one hub, not two): the table's upserts are tested on both
    databases in tests/storage/test_storage_security_events.py."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


async def _log_size(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(audit_records)) or 0)
    finally:
        await engine.dispose()


def _total(events: list[dict[str, object]], actor: str, code: str) -> int:
    return sum(int(str(e["count"])) for e in events if e["actor"] == actor and e["code"] == code)


def _pgs_audit_events(hub: RunningHub) -> None:
    """`pgs audit events`, as a table and as JSON, shows the flood as the auditor's API does."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PGS_")}
    environment |= {"COLUMNS": "200", "PGS_LANG": "en"}
    base = [sys.executable, "-m", "pgs_hub", "audit", "events", "--hub", hub.url,
            "--keys", str(hub.home / "people" / AUDITOR)]  # fmt: skip
    shown = subprocess.run(  # noqa: S603 - our own command
        [*base, "--json"], capture_output=True, text=True, env=environment, timeout=60, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert _total(json.loads(shown.stdout)["events"], NG, "policy.seizure_needs_wco") == FLOOD
    table = subprocess.run(  # noqa: S603 - our own command
        base, capture_output=True, text=True, env=environment, timeout=60, check=False
    )
    assert table.returncode == 0, table.stderr
    assert "policy.seizure_needs_wco" in table.stdout
    assert "envelope.submit" in table.stdout


async def test_refusals_are_counted_per_actor_and_minute_and_never_logged_one_by_one(
    hub: RunningHub,
) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    await hub.enrol(AUDITOR, "auditor")
    await hub.enrol(GH_AUDITOR, "auditor", scope="GH")
    async with hub.client(NG) as ng:
        gh_key = await ng.recipient_key(GH)
    before = await _log_size(hub.database_url)
    ng_key, stranger = hub.people[NG].signing, SigningKey.generate()
    async with aiohttp.ClientSession() as session:
        # A flood of submissions the policy refuses (a seizure report must also go to the WCO).
        for _ in range(FLOOD):
            sealed = seal_message(
                sender_id=NG, signer=ng_key, recipients=[(GH, gh_key)],
                kind=MessageKind.SEIZURE, content=example(MessageKind.SEIZURE), tlp=Tlp.AMBER,
                now=int(time.time()),
            )  # fmt: skip
            reply = await call(
                session, "POST", f"{hub.url}/v1/envelopes", body=sealed.raw, content_type=JOSE
            )
            assert (reply.status, reply.code) == (403, "policy.seizure_needs_wco")
        # Requests signed by a key nobody enrolled: authentication failures, by address.
        for _ in range(25):
            reply = await call(session, "GET", f"{hub.url}/v1/inbox", key=stranger)
            assert (reply.status, reply.code) == (401, "auth.unknown_key")
        # A participant at the admin door: authorization denials, by participant.
        for who, times in ((NG, 5), (GH, 2)):
            for _ in range(times):
                reply = await call(
                    session, "POST", f"{hub.url}/v1/admin/participants", body=b"{}",
                    key=hub.people[who].signing, content_type="application/json",
                )  # fmt: skip
                assert (reply.status, reply.code) == (403, "admin.forbidden")
        # A replayed request.
        url = f"{hub.url}/v1/inbox"
        sent = signature_headers(hub.people[GH].signing, "GET", url, None)
        for expected in (200, 401):
            async with session.get(url, headers=sent) as resp:
                assert resp.status == expected
        # Malformed: not JSON where JSON is due.
        reply = await call(
            session, "POST", f"{hub.url}/v1/envelopes", body=b"{not json", content_type=JOSE
        )
        assert reply.status == 400

        # Nothing of it went into the transparency log.
        assert await _log_size(hub.database_url) == before

        async def events_for(who: str) -> tuple[int, dict[str, object]]:
            answer = await call(
                session, "GET", f"{hub.url}/v1/audit/security-events",
                key=hub.people[who].signing,
            )  # fmt: skip
            return answer.status, answer.json()

        status, doc = await events_for(AUDITOR)
        assert status == 200, doc
        events = doc["events"]
        assert isinstance(events, list)
        assert _total(events, NG, "policy.seizure_needs_wco") == FLOOD
        # Each refusal once: the service recorded it, the HTTP edge did not again (by address).
        flood = [e for e in events if e["code"] == "policy.seizure_needs_wco"]
        assert sum(int(str(e["count"])) for e in flood) == FLOOD
        assert _total(events, "127.0.0.1", "auth.unknown_key") == 25
        assert _total(events, NG, "admin.forbidden") == 5
        assert _total(events, GH, "admin.forbidden") == 2
        assert _total(events, "127.0.0.1", "auth.replay") == 1
        assert _total(events, "127.0.0.1", "crypto.malformed") >= 1 or any(
            e["actor"] == "127.0.0.1" and str(e["code"]).startswith("crypto.") for e in events
        )
        # Bounded: one row per actor, code, action and minute (two minutes at most here).
        keys = {(e["actor"], e["code"], e["action"]) for e in events}
        assert len(events) <= 2 * len(keys) <= 2 * 8, events
        flood_rows = [e for e in events if e["code"] == "policy.seizure_needs_wco"]
        assert all(e["actor_kind"] == "participant" and e["country"] == "NG" for e in flood_rows)
        assert all(e["action"] == "envelope.submit" for e in flood_rows)

        # A country auditor sees its country's participants only (no addresses, no Nigeria).
        status, doc = await events_for(GH_AUDITOR)
        assert status == 200
        assert doc["scope"] == "GH"
        assert doc["events"], doc
        assert {e["actor"] for e in doc["events"]} == {GH}
        # Not an auditor: refused (and that refusal is on the record too).
        status, doc = await events_for(NG)
        assert (status, doc["code"]) == (403, "audit.forbidden")

    _pgs_audit_events(hub)
