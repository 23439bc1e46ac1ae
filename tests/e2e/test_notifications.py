"""Notifications tell without telling, end to end: participants set their own notifications over
the signed API; a real SMTP server (aiosmtpd, with authentication) and a real webhook receiver on
loopback get "a new Global Shield message awaits" in each participant's language, never a
subject, content, message id or secret; the webhook is checked by an implementation of the
Standard Webhooks verification written here from the spec (asymmetric ``v1a``, Ed25519); failed
attempts are retried, every attempt is recorded as metadata that auditors list in their scope,
and a hub restarted with a notification pending delivers it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pgs_hub.hub.client import HubClientError
from pgs_hub.hub.i18n import t
from pgs_hub.protocols import api
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, another_process, free_port, launch
from tests.e2e.messages import example

NG, GH, WCO, AUDITOR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-PGS-BRUSSELS", "GH-AUDIT"
GLOBAL_AUDITOR = "WCO-AUDIT"  # a WCO auditor without a scope sees every country
SMTP_PASSWORD = "CANARY-smtp-password-7f3a"  # noqa: S105 - a canary, not a secret
URL_TOKEN = "CANARY-url-token-91c2"  # noqa: S105 - a canary
GH_MAIL, WCO_MAIL = "duty@customs.gh.example", "desk@wco.example"
TOLERANCE = 5 * 60  # the spec's suggested tolerance for webhook-timestamp
# The test's SMTP server asks for a password over plain TCP: it is on loopback, the password is
# a canary, and that it reaches the server is part of what is checked.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def verify_standard_webhook(public_key: str, headers: dict[str, str], body: bytes) -> None:
    """Standard Webhooks verification, from the spec's text (not from the hub's code): the signed
    content is ``{webhook-id}.{webhook-timestamp}.{body}``; ``webhook-signature`` is a
    space-delimited list of ``{version},{base64 signature}``; ``v1a`` is Ed25519 with the public
    key given as ``whpk_`` + base64; the timestamp must be within the tolerance of now. Raises if
    no signature verifies."""
    if not public_key.startswith("whpk_"):
        raise ValueError("not a Standard Webhooks public key")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        raise ValueError("webhook-timestamp outside the tolerance")
    content = f"{msg_id}.{timestamp}.".encode() + body
    for versioned in headers["webhook-signature"].split(" "):
        version, _, signature = versioned.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), content)
        except InvalidSignature:
            continue
        return
    raise ValueError("no valid v1a signature")


class Mailbox:
    """An SMTP server's handler that refuses the first login (to see a retry), then takes the
    hub's password."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[bytes] = []
        self.first_session: object = None

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append(auth_data.password)
        if self.first_session is None:
            self.first_session = session
        ok = session is not self.first_session and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=free_port(), authenticator=mailbox,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


Calls = list[tuple[dict[str, str], bytes]]


async def receiver(port: int, calls: Calls, statuses: list[int]) -> web.AppRunner:
    """A webhook receiver on loopback answering the queued statuses, then 204."""

    async def hook(request: web.Request) -> web.Response:
        calls.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        return web.Response(status=statuses.pop(0) if statuses else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[Calls, int]]:
    calls: Calls = []
    port = free_port()
    runner = await receiver(port, calls, [503])  # the first delivery fails: a retry is seen
    try:
        yield calls, port
    finally:
        await runner.cleanup()


CONFIG = """[notifications]
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_user = "pgs-hub"
from = "pgs-hub@hub.example"
retry_base_seconds = 1
webhook_private_networks = true
"""


async def wait_for(condition: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def body_text(mail: Message) -> str:
    return mail.get_payload(decode=True).decode()  # type: ignore[union-attr]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_each_participant_is_told_in_its_language_and_nothing_more(
    database_url: str,
    tmp_path: Path,
    smtp: tuple[Mailbox, int],
    webhook: tuple[Calls, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (mailbox, smtp_port), (calls, hook_port) = smtp, webhook
    monkeypatch.setenv("PGS_SMTP_PASSWORD", SMTP_PASSWORD)  # the hub process inherits it
    hub = await launch(tmp_path / "home", database_url, config=CONFIG.format(port=smtp_port))
    try:
        for pid, role, scope in ((NG, "ncp", None), (GH, "ncp", None), (WCO, "wco", None),
                                 (AUDITOR, "auditor", "GH"),
                                 (GLOBAL_AUDITOR, "auditor", None)):  # fmt: skip
            await hub.enrol(pid, role, scope)
        hook_url = f"http://127.0.0.1:{hook_port}/hook?token={URL_TOKEN}"
        async with hub.client(GH) as gh:
            before = await gh.notification_settings()
            assert (before.email, before.webhook, before.saved) == (None, None, False)
            saved = await gh.set_notification_settings(
                api.NotificationSettingsChange(email=GH_MAIL, webhook=hook_url, language="fr")
            )
            assert saved.language == "fr"
            assert saved.saved is True
            public_key = saved.webhook_public_key
            with pytest.raises(HubClientError) as bad:
                await gh.set_notification_settings(
                    api.NotificationSettingsChange(timezone="Mars/Olympus")
                )
            assert (bad.value.status, bad.value.code) == (422, "notifications.invalid")
            assert (await gh.notification_settings()).timezone == "UTC"  # nothing changed
        async with hub.client(WCO) as wco:
            await wco.set_notification_settings(
                api.NotificationSettingsChange(email=WCO_MAIL, details=True)
            )
        async with hub.client(AUDITOR) as auditor:
            with pytest.raises(HubClientError) as refused:
                await auditor.set_notification_settings(
                    api.NotificationSettingsChange(email="a@b.example")
                )
            assert (refused.value.status, refused.value.code) == (403, "notifications.forbidden")

        content = example(MessageKind.ALERT)
        async with hub.client(NG) as ng:
            sealed, _ = await ng.send(kind=MessageKind.ALERT, content=content, to=[GH, WCO])
        await wait_for(
            lambda: len(mailbox.messages) == 2 and len(calls) == 2, "two mails, two calls"
        )

        # Five attempts in all: one e-mail refused at login (535, whichever came first) and
        # retried, two e-mails sent, the webhook refused (503) and retried.
        async with hub.client(GLOBAL_AUDITOR) as auditor:
            deadline = time.monotonic() + 20
            while (
                len((everything := (await auditor.notification_deliveries()).wire())["items"]) < 5
            ):
                assert time.monotonic() < deadline, everything
                await asyncio.sleep(0.1)
        async with hub.client(AUDITOR) as auditor:
            page = (await auditor.notification_deliveries()).wire()
        async with hub.client(NG) as ng:
            with pytest.raises(HubClientError) as not_auditor:
                await ng.notification_deliveries()
            assert (not_auditor.value.status, not_auditor.value.code) == (403, "audit.forbidden")
    finally:
        assert hub.stop() == 0, hub.log.read_text()

    check_mails(mailbox)
    check_webhook(calls, public_key)
    check_record(everything, page)
    check_hygiene(
        hub.log.read_text(), mailbox, calls, page,
        [content.model_dump()["subject"], sealed.header.mid, "Nitromethane"],
    )  # fmt: skip
    assert f"notification for {GH} by webhook: attempt 2 sent" in hub.log.read_text()


def check_mails(mailbox: Mailbox) -> None:
    mails = {to[0]: message_from_bytes(raw) for to, raw in mailbox.messages}
    assert set(mails) == {GH_MAIL, WCO_MAIL}
    gh_mail, wco_mail = mails[GH_MAIL], mails[WCO_MAIL]
    assert t("notify.one", "fr") in body_text(gh_mail)  # GH chose French
    assert t("notify.one", "en") not in body_text(gh_mail)
    assert gh_mail["Subject"] == t("notify.subject", "fr")
    assert "NG" not in body_text(gh_mail)  # no details: GH did not opt in
    assert t("notify.one", "en") in body_text(wco_mail)
    assert t("notify.detail", "en", country="NG", kind="alert") in body_text(wco_mail)
    assert mailbox.logins[-1] == SMTP_PASSWORD.encode()  # the password did reach the server


def check_webhook(calls: Calls, public_key: str) -> None:
    """Retried after the 503 with the same id and body, signed by the hub."""
    assert len(calls) == 2
    (first, first_body), (headers, body) = calls
    assert first["webhook-id"] == headers["webhook-id"]
    assert first_body == body
    verify_standard_webhook(public_key, headers, body)
    with pytest.raises(ValueError, match="no valid"):
        verify_standard_webhook(public_key, headers, body.replace(b"1", b"2"))
    with pytest.raises(ValueError, match="no valid"):
        verify_standard_webhook(public_key, headers | {"webhook-id": "msg_other"}, body)
    payload = json.loads(body)
    assert payload == {"type": "message.waiting", "timestamp": payload["timestamp"],
                       "data": {"messages": 1}}  # fmt: skip


def check_record(everything: dict[str, Any], page: dict[str, Any]) -> None:
    """Every attempt, as metadata; the GH auditor sees GH's only."""
    seen = [
        (a["participant_id"], a["channel"], a["outcome"], a["http_status"], a["smtp_code"])
        for a in everything["items"]
    ]
    refused_login = [s for s in seen if s[2] == "retry" and s[1] == "email"]
    assert len(refused_login) == 1
    assert refused_login[0][4] == 535  # authentication refused
    assert sorted(s for s in seen if s[1] == "email" and s[2] == "sent") == [
        (GH, "email", "sent", None, 250), (WCO, "email", "sent", None, 250),
    ]  # fmt: skip
    assert [s for s in seen if s[1] == "webhook"] == [
        (GH, "webhook", "retry", 503, None), (GH, "webhook", "sent", 204, None),
    ]  # fmt: skip
    assert len(seen) == 5
    assert [a for a in everything["items"] if a["participant_id"] == GH] == page["items"]
    assert [a["attempt"] for a in page["items"] if a["channel"] == "webhook"] == [1, 2]


def check_hygiene(
    log: str, mailbox: Mailbox, calls: Calls, page: dict[str, Any], message: list[str]
) -> None:
    """Never a subject, content, message id or secret in a notification; none of them, nor an
    address, in the log or the record."""
    sent = [raw for _, raw in mailbox.messages] + [body for _, body in calls]
    sent += [json.dumps(h).encode() for h, _ in calls]
    for canary in [*message, SMTP_PASSWORD]:
        for raw in sent:
            assert canary.encode() not in raw, canary
    for canary in [*message, SMTP_PASSWORD, URL_TOKEN, GH_MAIL, WCO_MAIL]:
        assert canary not in log, canary
        assert canary not in json.dumps(page), canary


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_restarted_hub_delivers_what_was_pending(database_url: str, tmp_path: Path) -> None:
    calls: Calls = []
    port = free_port()  # nothing listens yet: every attempt fails
    hub: RunningHub = await launch(tmp_path / "home", database_url, config=CONFIG.format(port=1))
    try:
        for pid in (NG, GH):
            await hub.enrol(pid, "ncp")
        async with hub.client(GH) as gh:
            await gh.set_notification_settings(
                api.NotificationSettingsChange(webhook=f"http://127.0.0.1:{port}/hook")
            )
        async with hub.client(NG) as ng:
            await ng.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH])
        await wait_for(lambda: "by webhook: attempt 1 retry" in hub.log.read_text(), "a retry")
    finally:
        assert hub.stop() == 0, hub.log.read_text()
    runner = await receiver(port, calls, [])
    try:
        again = await another_process(hub, "hub2.log")
        try:
            await wait_for(lambda: len(calls) == 1, "the pending notification")
        finally:
            assert again.stop() == 0, again.log.read_text()
    finally:
        await runner.cleanup()
    assert json.loads(calls[0][1])["data"] == {"messages": 1}
    assert " sent" in again.log.read_text()
