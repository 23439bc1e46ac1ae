"""Notification settings, pending notifications and their attempts, on SQLite and PostgreSQL:
arrivals fold into a notification that waits (digest, quiet hours) but never into one already
tried or due; a claim is taken once; every attempt is a metadata row an auditor's scope filters."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import NOW

from pgs_hub.hub.notification_settings import NotificationSettings
from pgs_hub.hub.storage import notifications as store
from pgs_hub.hub.storage.tables import notifications

pytestmark = pytest.mark.usefixtures("population")


async def test_settings_are_saved_and_changed_per_participant(engine: AsyncEngine) -> None:
    mine = NotificationSettings(email="duty@fr.example", language="fr", timezone="Europe/Paris")
    async with engine.begin() as conn:
        await store.save_settings(conn, "fr-1", mine, NOW)
        await store.save_settings(
            conn, "de-1", NotificationSettings(webhook="https://de.example/h"), NOW
        )
    changed = NotificationSettings(email="duty@fr.example", digest_minutes=15, quiet_start="22:00",
                                   quiet_end="07:00")  # fmt: skip
    async with engine.begin() as conn:
        await store.save_settings(conn, "fr-1", changed, NOW + 1)
    async with engine.connect() as conn:
        found = await store.settings_of(conn, ["fr-1", "de-1", "nl-1"])
    assert found == {"fr-1": changed, "de-1": NotificationSettings(webhook="https://de.example/h")}


async def test_arrivals_fold_into_a_waiting_notification_only(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        # due later (a digest): the next arrivals fold in, with their details
        await store.enqueue(
            conn, "fr-1", "email", detail=("DE", "alert"), now=NOW, due_at=NOW + 600
        )
        await store.enqueue(
            conn, "fr-1", "email", detail=("NL", "rfi"), now=NOW + 1, due_at=NOW + 601
        )
        # another channel, and one due at once (no digest): each its own
        await store.enqueue(conn, "fr-1", "webhook", detail=None, now=NOW, due_at=NOW)
        await store.enqueue(conn, "fr-1", "webhook", detail=None, now=NOW, due_at=NOW)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(notifications).order_by(notifications.c.id))).all()
        assert [(r.channel, r.messages) for r in rows] == [
            ("email", 2),
            ("webhook", 1),
            ("webhook", 1),
        ]
        assert len({r.event_id for r in rows}) == 3
        due_now = await store.due(conn, NOW, 10)
        assert [(p.channel, p.messages) for p in due_now] == [("webhook", 1), ("webhook", 1)]
        (digest,) = [p for p in await store.due(conn, NOW + 600, 10) if p.channel == "email"]
        assert digest.details == [("DE", "alert"), ("NL", "rfi")]
        assert await store.next_due(conn) == NOW


async def test_a_claim_is_taken_once_and_a_tried_notification_takes_no_more_arrivals(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await store.enqueue(conn, "de-1", "email", detail=None, now=NOW, due_at=NOW + 60)
    async with engine.connect() as conn:
        (item,) = await store.due(conn, NOW + 60, 10)
    async with engine.begin() as conn:
        assert await store.claim(conn, item, NOW + 180)
    async with engine.begin() as conn:
        assert not await store.claim(conn, item, NOW + 180)  # a second process: refused
        # tried already (its lease runs): a new arrival is a new notification
        await store.enqueue(conn, "de-1", "email", detail=None, now=NOW + 61, due_at=NOW + 120)
        attempt = store.Attempt(item.id, "de-1", "email", NOW + 61, 1, "retry", smtp_code=451,
                                error="SMTPResponseException")  # fmt: skip
        await store.settle(conn, attempt, state="pending", retry_at=NOW + 90)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(notifications).order_by(notifications.c.id))).all()
    assert [(r.messages, r.attempts, r.state, r.due_at) for r in rows] == [
        (1, 1, "pending", NOW + 90),
        (1, 0, "pending", NOW + 120),
    ]
    async with engine.begin() as conn:
        (again, _) = await store.due(conn, NOW + 120, 10)
        assert again.attempts == 1
        assert await store.claim(conn, again, NOW + 300)
        await store.settle(
            conn, store.Attempt(again.id, "de-1", "email", NOW + 121, 2, "sent", smtp_code=250),
            state="sent",
        )  # fmt: skip
        assert [p.id for p in await store.due(conn, NOW + 10**6, 10)] == [rows[1].id]


async def test_attempts_are_listed_by_cursor_and_by_country(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for pid in ("fr-1", "de-1", "fr-1"):
            await store.enqueue(conn, pid, "webhook", detail=None, now=NOW, due_at=NOW)
        for n, item in enumerate(await store.due(conn, NOW, 10)):
            await store.settle(
                conn,
                store.Attempt(item.id, item.participant_id, "webhook", NOW + n, 1, "sent",
                              http_status=204),
                state="sent",
            )  # fmt: skip
    async with engine.connect() as conn:
        everyone = await store.attempts_page(conn, after=0, limit=10, country=None)
        french = await store.attempts_page(conn, after=0, limit=10, country="FR")
        german = await store.attempts_page(conn, after=0, limit=10, country="DE")
        later = await store.attempts_page(
            conn, after=int(everyone[0]["seq"]), limit=1, country=None
        )  # type: ignore[call-overload]
        one = await store.attempts_page(conn, after=0, limit=10, country=None, participant="de-1")
    assert [a["participant_id"] for a in everyone] == ["fr-1", "de-1", "fr-1"]
    assert [a["participant_id"] for a in french] == ["fr-1", "fr-1"]
    assert [a["participant_id"] for a in german] == ["de-1"]
    assert [a["participant_id"] for a in one] == ["de-1"]
    assert later == everyone[1:2]
    assert set(everyone[0]) == {
        "seq", "notification_id", "participant_id", "channel", "at", "attempt", "outcome",
        "http_status", "smtp_code", "error",
    }  # fmt: skip
    assert everyone[0]["http_status"] == 204


async def test_a_claim_folds_in_the_untried_notifications_written_beside_it(
    engine: AsyncEngine,
) -> None:
    """Two arrivals written at once (two processes) both made a notification; the one claimed
    first tells of both, and the other is gone, so the end of a digest sends one message."""
    async with engine.begin() as conn:
        for country in ("DE", "NL"):
            await conn.execute(
                notifications.insert().values(
                    event_id=f"msg_{country}", participant_id="fr-1", channel="email", messages=1,
                    details=f'[["{country}", "alert"]]', created_at=NOW, due_at=NOW + 60,
                    attempts=0, state="pending",
                )
            )  # fmt: skip
        await store.enqueue(conn, "fr-1", "webhook", detail=None, now=NOW, due_at=NOW + 60)
    async with engine.connect() as conn:
        first, second, _ = await store.due(conn, NOW + 60, 10)
    async with engine.begin() as conn:
        taken = await store.claim(conn, first, NOW + 200)
        assert await store.claim(conn, second, NOW + 200) is None  # folded into the first
    assert taken is not None
    assert (taken.messages, taken.details) == (2, [("DE", "alert"), ("NL", "alert")])
    async with engine.connect() as conn:
        rows = (await conn.execute(select(notifications).order_by(notifications.c.id))).all()
    assert [(r.channel, r.messages, r.attempts) for r in rows] == [
        ("email", 2, 1), ("webhook", 1, 0),
    ]  # fmt: skip
