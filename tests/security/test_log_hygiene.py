"""Log hygiene: canary secrets never reach the hub's log, a problem document or the audit records.

Canaries: a key passphrase in the hub's environment (``PGS_KEY_PASSPHRASE``) that also protects a
participant's keys; a message subject (end-to-end encrypted, so the hub must never see it in
clear); notification settings (refused ones, and an e-mail address and webhook URL the hub then
tries, whose attempts are recorded); and hostile request bodies, query strings, headers and paths
that carry the canary and are refused (a refusal must describe the problem, not echo the input)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClientError
from pgs_hub.hub.enrolment import certify
from pgs_hub.hub.storage import tables
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example
from tests.security import figures

CANARY = f"CANARY{secrets.token_hex(8)}"
PASSPHRASE = f"PASS{CANARY}"
SENDER, READER = "NG-NCP-LAGOS", "GH-NCP-ACCRA"


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the hub starts, so the hub process inherits it."""
    monkeypatch.setenv("PGS_KEY_PASSPHRASE", PASSPHRASE)


async def _enrol_protected(hub: RunningHub, participant: str) -> None:
    folder = hub.home / "people" / participant
    keystore.create(folder, participant, PASSPHRASE.encode())
    local = keystore.load(folder, PASSPHRASE.encode())
    certificate = certify(
        hub.authority, participant, role="ncp", scope=None, verify=local.signing.public,
        encrypt=local.decryption.public, now=int(time.time()),
    )  # fmt: skip
    async with hub.client(hub.admin) as admin:
        await admin.enrol(certificate)
    hub.people[participant] = local


async def _notification_canaries(hub: RunningHub) -> list[str]:
    """Notification settings carrying the canary: refused ones (the problem must not echo it),
    then an address and a webhook URL that hold it, which the hub tries to notify (and must
    neither log nor record). Returns the problem documents."""
    problems = []
    async with hub.client(READER) as reader:
        for bad in ({CANARY: 1}, {"email": CANARY}, {"timezone": CANARY},
                    {"webhook": f"ftp://{CANARY}.example"}, {"language": CANARY},
                    {"quiet_hours": {"start": CANARY, "end": "07:00"}}):  # fmt: skip
            with pytest.raises(HubClientError) as refused:
                # Sent as raw JSON: the typed client cannot even build most of these.
                await reader.request(
                    "PUT", "/v1/me/notifications", body=json.dumps(bad).encode(),
                    content_type="application/json",
                )  # fmt: skip
            assert refused.value.status == 422
            problems.append(json.dumps(refused.value.problem))
        await reader.set_notification_settings(
            api.NotificationSettingsChange(
                email=f"{CANARY.lower()}@customs.example",
                webhook=f"http://127.0.0.1:9/{CANARY}",
            )
        )
    async with hub.client(SENDER) as sender:
        await sender.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[READER])
    engine = create_engine(hub.database_url)
    try:
        deadline = time.monotonic() + 20
        while True:  # both channels were tried (and failed: no mail server, a private address)
            async with engine.connect() as conn:
                attempts = (await conn.execute(select(tables.notification_attempts))).all()
            if len(attempts) >= 2:
                break
            assert time.monotonic() < deadline, "the notifications were not tried"
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    problems.append(repr(attempts))
    return problems


async def test_canaries_never_reach_logs_problems_or_audit(
    canary_env: None, hub: RunningHub
) -> None:
    await _enrol_protected(hub, SENDER)
    await _enrol_protected(hub, READER)
    content = example(MessageKind.ALERT).model_copy(update={"subject": f"seized {CANARY}"})
    async with hub.client(SENDER) as sender, hub.client(READER) as reader:
        sealed, _ = await sender.send(kind=MessageKind.ALERT, content=content, to=[READER])
        opened = await reader.read(sealed.header.mid)
        assert CANARY in opened.content.subject  # type: ignore[attr-defined]
        await reader.ack(sealed.header.mid)

    hostile: list[tuple[str, str, bytes | None, dict[str, str]]] = [
        ("POST", "/v1/envelopes", f'{{"payload":"{CANARY}"}}'.encode(),
         {"Content-Type": "application/jose+json"}),
        ("POST", "/v1/envelopes", CANARY.encode() * 10, {"Content-Type": "application/jose+json"}),
        ("POST", "/v1/envelopes", sealed.raw.replace(b'"protected":"', f'"protected":"{CANARY}'
         .encode(), 1), {"Content-Type": "application/jose+json"}),
        ("POST", "/v1/envelopes", b"{}", {"Content-Type": f"text/{CANARY}"}),
        ("GET", f"/v1/inbox?after={CANARY}", None, {}),
        ("GET", "/v1/inbox", None, {"Signature": f"sig=:{CANARY}:", "Signature-Input":
         f'sig=("@method");keyid="{CANARY}";created=1;nonce="{CANARY}";alg="ed25519"'}),
        ("GET", f"/v1/envelopes/{CANARY}", None, {}),
        ("GET", f"/v1/directory/{CANARY}", None, {}),
        ("POST", f"/v1/admin/participants/{SENDER}/status", json.dumps({"action": CANARY})
         .encode(), {"Content-Type": "application/json"}),
        ("PATCH", f"/v1/{CANARY}", CANARY.encode(), {}),
    ]  # fmt: skip
    bodies = []
    async with aiohttp.ClientSession() as session:
        for method, path, body, headers in hostile:
            async with session.request(method, hub.url + path, data=body, headers=headers) as r:
                assert 400 <= r.status < 500, (method, path, r.status)
                bodies.append(await r.text())
    bodies += await _notification_canaries(hub)
    leaked_bodies = [b for b in bodies if CANARY in b]

    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(tables.audit_records))).all()
    finally:
        await engine.dispose()
    audit_text = "\n".join(repr(tuple(row)) for row in rows)
    assert rows, "no audit records were written"

    hub.stop()  # flush the log
    log_text = hub.log.read_text(errors="replace")
    envelope_log = Path(hub.home).glob("**/*.log")
    other_logs = "".join(p.read_text(errors="replace") for p in envelope_log)
    places = {"problem bodies": leaked_bodies, "audit": CANARY in audit_text,
              "hub log": CANARY in log_text or CANARY in other_logs}  # fmt: skip
    figures.record(
        "log hygiene (canary places checked)",
        tried=len(hostile) + 2 + len(rows),
        accepted=len(leaked_bodies) + (CANARY in audit_text) + (CANARY in log_text),
    )
    assert leaked_bodies == []
    assert CANARY not in audit_text
    assert CANARY not in log_text
    assert CANARY not in other_logs, places
