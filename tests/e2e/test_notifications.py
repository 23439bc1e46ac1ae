"""Notifications tell without telling: a real SMTP server (aiosmtpd) and a real webhook receiver
on loopback get "a new Global Shield message awaits", never a subject, content or message id; the
webhook is signed (Standard Webhooks, Ed25519 ``v1a``) by the hub's key and retried after a
failure; details (sender country, kind) only for a participant who opted in."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from cryptography.exceptions import InvalidSignature

from crypto.keys import SigningKey, load_private_pem
from hub.services.notifications import TEXT_EN, TEXT_FR
from protocols.messages.common import MessageKind
from tests.e2e.harness import free_port, launch
from tests.e2e.messages import example

NG, GH, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-PGS-BRUSSELS"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on a loopback port."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[list[tuple[dict[str, str], bytes]], int]]:
    """A webhook receiver on loopback; it fails the first delivery (503) to see the retry."""
    calls: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        calls.append((dict(request.headers), await request.read()))
        return web.Response(status=503 if len(calls) == 1 else 204)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield calls, port
    finally:
        await runner.cleanup()


async def test_email_and_signed_webhook_say_only_that_a_message_awaits(
    database_url: str,
    tmp_path: Path,
    smtp: tuple[Mailbox, int],
    webhook: tuple[list[tuple[dict[str, str], bytes]], int],
) -> None:
    (mailbox, smtp_port), (calls, hook_port) = smtp, webhook
    config = f"""[notifications]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
from = "pgs-hub@hub.example"

[notifications.participants."{GH}"]
email = "duty@customs.gh.example"
webhook = "http://127.0.0.1:{hook_port}/hook"

[notifications.participants."{WCO}"]
email = "desk@wco.example"
details = true
"""
    hub = await launch(tmp_path / "home", database_url, config=config)
    try:
        for pid, role in ((NG, "ncp"), (GH, "ncp"), (WCO, "wco")):
            await hub.enrol(pid, role)
        content = example(MessageKind.ALERT)
        async with hub.client(NG) as ng:
            sealed, _ = await ng.send(kind=MessageKind.ALERT, content=content, to=[GH, WCO])
        deadline = time.monotonic() + 20
        while (len(mailbox.messages) < 2 or len(calls) < 2) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        assert hub.stop() == 0, hub.log.read_text()

    mails = {to[0]: message_from_bytes(raw) for to, raw in mailbox.messages}
    assert set(mails) == {"duty@customs.gh.example", "desk@wco.example"}
    subject = content.model_dump()["subject"]
    for mail in mails.values():
        text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert TEXT_EN in text
        assert TEXT_FR in text
        for secret in (subject, sealed.header.mid, "Nitromethane"):
            assert secret not in mail.as_string()
    gh_text = mails["duty@customs.gh.example"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "pays expéditeur" not in gh_text  # no details: GH did not opt in
    assert "alert" not in gh_text
    wco_text = mails["desk@wco.example"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "pays expéditeur: NG" in wco_text
    assert "alert" in wco_text

    # The webhook: retried after the 503, signed by the hub's key, content-free.
    assert len(calls) == 2
    assert calls[0][1] == calls[1][1]
    headers, body = calls[1]
    key = load_private_pem((hub.home / "hub-key" / "signing.key.pem").read_bytes(), None)
    assert isinstance(key, SigningKey)
    scheme, _, signature = headers["webhook-signature"].partition(",")
    assert scheme == "v1a"
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    key.public.key.verify(base64.b64decode(signature), signed)  # raises if not the hub's
    with pytest.raises(InvalidSignature):
        key.public.key.verify(base64.b64decode(signature), signed + b" ")
    payload = json.loads(body)
    assert payload == {"type": "message.waiting", "timestamp": payload["timestamp"], "data": {}}
    log = hub.log.read_text()
    assert "customs.gh.example" not in log
    assert "notification for GH-NCP-ACCRA by webhook: sent" in log
