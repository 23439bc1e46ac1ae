"""The notification worker on a real database (SQLite and PostgreSQL), a real SMTP server
(aiosmtpd) and a real webhook receiver on loopback, with the hub's clock in the test's hands:
a digest sends one message per period, quiet hours hold what arrives until they end in the
participant's timezone, failures are retried after growing pauses and given up in the end,
every attempt is recorded as metadata, and a new worker (a restarted hub) resumes what was
pending."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub.i18n import t
from pgs_hub.hub.notification_config import NotificationConfig
from pgs_hub.hub.notification_settings import NotificationSettings
from pgs_hub.hub.services.notifications import GATHER_SECONDS, NotificationDispatcher
from pgs_hub.hub.storage import notifications as store
from pgs_hub.hub.storage.tables import notifications
from tests.e2e.harness import free_port
from tests.storage.storage_rows import enrol

NOW = 1_800_000_000  # 2027-01-15 08:00 UTC: 09:00 in Lagos
GH, NG = "GH-NCP-ACCRA", "NG-NCP-LAGOS"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[int], list[bytes], int]]:
    """A webhook receiver answering the statuses the test queues (204 once they run out)."""
    statuses: list[int] = []
    bodies: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(status=statuses.pop(0) if statuses else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield statuses, bodies, port
    finally:
        await runner.cleanup()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


async def dispatcher(
    engine: AsyncEngine,
    clock: Clock,
    smtp_port: int = 1,
    *,
    private: bool = True,
    gather_seconds: float = GATHER_SECONDS,
) -> NotificationDispatcher:
    """A dispatcher on the test's clock; ``private``: webhooks may go to loopback (the test's
    receiver is there)."""
    config = NotificationConfig(
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        retry_base_seconds=10,
        max_attempts=3,
        webhook_private_networks=private,
    )
    return NotificationDispatcher(
        engine, config, SigningKey.generate(), clock, gather_seconds=gather_seconds
    )


@pytest.fixture
async def people(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await enrol(conn, GH, "GH")
        await enrol(conn, NG, "NG")


async def save(engine: AsyncEngine, pid: str, settings: NotificationSettings) -> None:
    async with engine.begin() as conn:
        await store.save_settings(conn, pid, settings, NOW)


@pytest.mark.usefixtures("people")
async def test_a_digest_tells_of_every_arrival_of_its_period_in_one_message(
    engine: AsyncEngine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    clock = Clock()
    await save(
        engine,
        GH,
        NotificationSettings(
            email="duty@gh.example", language="fr", digest_minutes=10, details=True
        ),
    )
    d = await dispatcher(engine, clock, port)
    for kind in ("alert", "rfi", "alert"):
        d.message_waiting([GH], sender_country="NG", kind=kind, now=clock.now)
        await d.written()
        clock.now += 60
    assert await d.send_due() == 0  # the period has not ended
    assert mailbox.messages == []
    clock.now = NOW + 600
    assert await d.send_due() == 1
    (mail,) = mailbox.messages
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert t("notify.many", "fr", n=3) in text
    assert text.count(t("notify.detail", "fr", country="NG", kind="alert")) == 2
    assert t("notify.detail", "fr", country="NG", kind="rfi") in text
    assert mail["Subject"] == t("notify.subject", "fr")
    # The next arrival starts a new period.
    d.message_waiting([GH], sender_country="NG", kind="alert", now=clock.now)
    await d.written()
    assert await d.send_due() == 0
    clock.now += 600
    assert await d.send_due() == 1
    assert t("notify.one", "fr") in mailbox.messages[1].get_payload(decode=True).decode()  # type: ignore[union-attr]


@pytest.mark.usefixtures("people")
async def test_arrivals_of_a_moment_are_written_together_and_none_is_lost(
    engine: AsyncEngine, smtp: tuple[Mailbox, int]
) -> None:
    """A steady trickle of arrivals (one every 20 ms here) costs one read of the recipients'
    settings and one transaction per gathering window, not one per arrival; each arrival is
    still told (the digest counts all of them)."""
    mailbox, port = smtp
    clock = Clock()
    await save(engine, GH, NotificationSettings(email="duty@gh.example", digest_minutes=10))
    d = await dispatcher(engine, clock, port, gather_seconds=1.0)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        for _ in range(5):
            d.message_waiting([GH], sender_country="NG", kind="alert", now=clock.now)
            await asyncio.sleep(0.02)
        await d.written()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    settings_reads = [s for s in statements if "FROM notification_settings" in s]
    assert len(settings_reads) == 1
    assert sum(s.startswith("INSERT INTO notifications") for s in statements) == 1
    clock.now += 600
    assert await d.send_due() == 1
    (mail,) = mailbox.messages
    assert t("notify.many", "en", n=5) in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]


@pytest.mark.usefixtures("people")
async def test_quiet_hours_hold_arrivals_until_they_end_in_the_participants_timezone(
    engine: AsyncEngine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    clock = Clock()  # 09:00 in Lagos (UTC+1)
    await save(
        engine,
        NG,
        NotificationSettings(
            email="duty@ng.example", quiet_start="08:30", quiet_end="10:00", timezone="Africa/Lagos"
        ),
    )
    d = await dispatcher(engine, clock, port)
    d.message_waiting([NG], sender_country="GH", kind="alert", now=clock.now)
    d.message_waiting([NG], sender_country="GH", kind="seizure", now=clock.now + 5)
    await d.written()
    clock.now = NOW + 3600 - 1  # 09:59:59 in Lagos
    assert await d.send_due() == 0
    clock.now = NOW + 3600  # 10:00
    assert await d.send_due() == 1
    (mail,) = mailbox.messages
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert t("notify.many", "en", n=2) in text
    assert "GH" not in text  # NG did not opt in to details
    assert "seizure" not in text


@pytest.mark.usefixtures("people")
async def test_failures_are_retried_with_growing_pauses_then_given_up_each_attempt_recorded(
    engine: AsyncEngine, receiver: tuple[list[int], list[bytes], int]
) -> None:
    statuses, bodies, port = receiver
    statuses += [503, 500, 502]
    clock = Clock()
    await save(engine, GH, NotificationSettings(webhook=f"http://127.0.0.1:{port}/hook"))
    d = await dispatcher(engine, clock)
    d.message_waiting([GH], sender_country="NG", kind="alert", now=clock.now)
    await d.written()
    pauses = []
    for _ in range(3):
        assert await d.send_due() == 1
        async with engine.connect() as conn:
            row = (await conn.execute(select(notifications))).one()
        if row.state == "pending":
            pauses.append(row.due_at - clock.now)
            clock.now = row.due_at - 1
            assert await d.send_due() == 0  # not due yet: nothing tried
            clock.now = row.due_at
    assert pauses == [10, 20]  # retry_base_seconds * 2**(attempt-1)
    async with engine.connect() as conn:
        row = (await conn.execute(select(notifications))).one()
        attempts = await store.attempts_page(conn, after=0, limit=10, country=None)
    assert row.state == "failed"
    assert [(a["attempt"], a["outcome"], a["http_status"]) for a in attempts] == [
        (1, "retry", 503), (2, "retry", 500), (3, "given_up", 502),
    ]  # fmt: skip
    assert len(set(bodies)) == 1  # the same payload on every retry
    assert d.failed == 1


@pytest.mark.usefixtures("people")
async def test_a_new_worker_resumes_what_an_old_one_left_pending(
    engine: AsyncEngine, receiver: tuple[list[int], list[bytes], int]
) -> None:
    statuses, bodies, port = receiver
    clock = Clock()
    await save(engine, GH, NotificationSettings(webhook=f"http://127.0.0.1:{port}/hook"))
    first = await dispatcher(engine, clock)
    statuses.append(503)
    first.message_waiting([GH], sender_country="NG", kind="alert", now=clock.now)
    await first.written()
    assert await first.send_due() == 1
    await first.close()  # the hub stops with a retry pending
    clock.now += 10
    second = await dispatcher(engine, clock)  # the restarted hub
    assert await second.send_due() == 1
    async with engine.connect() as conn:
        row = (await conn.execute(select(notifications))).one()
        attempts = await store.attempts_page(conn, after=0, limit=10, country=None)
    assert row.state == "sent"
    assert [a["outcome"] for a in attempts] == ["retry", "sent"]
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


@pytest.mark.usefixtures("people")
async def test_a_channel_turned_off_meanwhile_is_cancelled_not_sent(
    engine: AsyncEngine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    clock = Clock()
    await save(engine, GH, NotificationSettings(email="duty@gh.example", digest_minutes=5))
    d = await dispatcher(engine, clock, port)
    d.message_waiting([GH], sender_country="NG", kind="alert", now=clock.now)
    await d.written()
    await save(engine, GH, NotificationSettings())
    clock.now += 300
    assert await d.send_due() == 1
    assert mailbox.messages == []
    async with engine.connect() as conn:
        assert (await conn.execute(select(notifications.c.state))).scalar_one() == "cancelled"


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.7"])
async def test_webhooks_into_private_networks_are_refused_by_default(
    engine: AsyncEngine, receiver: tuple[list[int], list[bytes], int], host: str
) -> None:
    """A participant's URL must not make the hub reach into its own network (SSRF): refused
    before any connection, and recorded as such."""
    _, bodies, port = receiver
    clock = Clock()
    await save(engine, GH, NotificationSettings(webhook=f"http://{host}:{port}/hook"))
    d = await dispatcher(engine, clock, private=False)
    d.message_waiting([GH], sender_country="NG", kind="alert", now=clock.now)
    await d.written()
    assert await d.send_due() == 1
    async with engine.connect() as conn:
        (attempt,) = await store.attempts_page(conn, after=0, limit=10, country=None)
    assert (attempt["outcome"], attempt["error"]) == ("retry", "PrivateAddressError")
    assert bodies == []


@pytest.mark.usefixtures("people")
async def test_a_retry_that_would_fall_in_quiet_hours_waits_for_their_end(
    engine: AsyncEngine, receiver: tuple[list[int], list[bytes], int]
) -> None:
    statuses, _, port = receiver
    statuses.append(503)
    clock = Clock()  # 09:00 in Lagos; quiet hours begin at 09:01
    await save(engine, NG, NotificationSettings(webhook=f"http://127.0.0.1:{port}/hook",
                                                quiet_start="09:01", quiet_end="10:00",
                                                timezone="Africa/Lagos"))  # fmt: skip
    config = NotificationConfig(retry_base_seconds=60, webhook_private_networks=True)
    d = NotificationDispatcher(engine, config, SigningKey.generate(), clock)
    d.message_waiting([NG], sender_country="GH", kind="alert", now=clock.now)
    await d.written()
    assert await d.send_due() == 1  # 503: tried again after 60 s, at 09:01, in quiet hours
    async with engine.connect() as conn:
        row = (await conn.execute(select(notifications))).one()
    assert row.due_at == NOW + 3600  # 10:00 in Lagos
