"""Notification settings, pending notifications and delivery attempts (SQL only).

A notification is claimed by a compare-and-set on its ``due_at`` (pushed to the end of a lease),
so that several hub processes on one database never send it twice at once, and a process that
dies mid-attempt leaves it to be tried again once the lease ends (after a restart too).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.notification_settings import NotificationSettings
from pgs_hub.hub.storage.tables import notification_attempts, notification_settings, notifications
from pgs_hub.hub.storage.tables import participants as participants_table


@dataclass(frozen=True)
class Pending:
    id: int
    event_id: str
    participant_id: str
    channel: str
    messages: int
    details: list[tuple[str, str]] | None
    created_at: int
    due_at: int
    attempts: int


@dataclass(frozen=True)
class Attempt:
    notification_id: int
    participant_id: str
    channel: str
    at: int
    attempt: int
    outcome: str
    http_status: int | None = None
    smtp_code: int | None = None
    error: str | None = None


def _settings(row: object) -> NotificationSettings:
    m = row._mapping  # type: ignore[attr-defined]
    return NotificationSettings(
        email=m["email"],
        webhook=m["webhook"],
        language=m["language"],
        details=bool(m["details"]),
        digest_minutes=m["digest_minutes"],
        quiet_start=m["quiet_start"],
        quiet_end=m["quiet_end"],
        timezone=m["timezone"],
    )


# Built once: the hub reads the settings of every group commit's recipients (one read per batch
# of arrivals, hub.services.notifications), and a statement built anew each time costs SQLAlchemy
# its construction and cache key on the event loop (~0.1 ms of the read's ~0.4 ms of loop CPU;
# bench/README.md). The list goes in as one expanding parameter.
_SETTINGS_OF = select(notification_settings).where(
    notification_settings.c.participant_id.in_(bindparam("pids", expanding=True))
)


async def settings_of(
    conn: AsyncConnection, pids: Sequence[str]
) -> dict[str, NotificationSettings]:
    rows = await conn.execute(_SETTINGS_OF, {"pids": list(pids)})
    return {r.participant_id: _settings(r) for r in rows}


async def save_settings(
    conn: AsyncConnection, pid: str, settings: NotificationSettings, now: int
) -> None:
    values = {
        "email": settings.email,
        "webhook": settings.webhook,
        "language": settings.language,
        "details": settings.details,
        "digest_minutes": settings.digest_minutes,
        "quiet_start": settings.quiet_start,
        "quiet_end": settings.quiet_end,
        "timezone": settings.timezone,
        "updated_at": now,
    }
    changed = await conn.execute(
        update(notification_settings)
        .where(notification_settings.c.participant_id == pid)
        .values(**values)
    )
    if changed.rowcount == 0:
        await conn.execute(insert(notification_settings).values(participant_id=pid, **values))


async def enqueue(
    conn: AsyncConnection,
    pid: str,
    channel: str,
    *,
    detail: tuple[str, str] | None,
    now: int,
    due_at: int,
) -> None:
    """Tell ``pid`` of one more arrival: folded into its pending notification on ``channel`` that
    is not due yet and was never tried (a digest or quiet hours), else a new one due at
    ``due_at``."""
    waiting = (
        await conn.execute(
            select(notifications.c.id, notifications.c.messages, notifications.c.details)
            .where(
                notifications.c.participant_id == pid,
                notifications.c.channel == channel,
                notifications.c.state == "pending",
                notifications.c.attempts == 0,
                notifications.c.due_at > now,
            )
            .order_by(notifications.c.id)
            .limit(1)
        )
    ).first()
    if waiting is not None:
        details = json.loads(waiting.details) if waiting.details else None
        if detail is not None:
            details = [*(details or []), list(detail)]
        folded = await conn.execute(
            update(notifications)
            .where(
                notifications.c.id == waiting.id,
                notifications.c.messages == waiting.messages,
                notifications.c.attempts == 0,
            )
            .values(
                messages=waiting.messages + 1,
                details=json.dumps(details) if details is not None else None,
            )
        )
        if folded.rowcount == 1:
            return
    await conn.execute(
        insert(notifications).values(
            event_id="msg_" + secrets.token_urlsafe(18),
            participant_id=pid,
            channel=channel,
            messages=1,
            details=json.dumps([list(detail)]) if detail is not None else None,
            created_at=now,
            due_at=due_at,
            attempts=0,
            state="pending",
        )
    )


def _pending(row: object) -> Pending:
    m = row._mapping  # type: ignore[attr-defined]
    details = json.loads(m["details"]) if m["details"] else None
    return Pending(
        id=m["id"],
        event_id=m["event_id"],
        participant_id=m["participant_id"],
        channel=m["channel"],
        messages=m["messages"],
        details=[(str(c), str(k)) for c, k in details] if details is not None else None,
        created_at=m["created_at"],
        due_at=m["due_at"],
        attempts=m["attempts"],
    )


async def due(conn: AsyncConnection, now: int, limit: int) -> list[Pending]:
    rows = await conn.execute(
        select(notifications)
        .where(notifications.c.state == "pending", notifications.c.due_at <= now)
        .order_by(notifications.c.due_at, notifications.c.id)
        .limit(limit)
    )
    return [_pending(r) for r in rows]


async def next_due(conn: AsyncConnection) -> int | None:
    return await conn.scalar(
        select(notifications.c.due_at)
        .where(notifications.c.state == "pending")
        .order_by(notifications.c.due_at)
        .limit(1)
    )


async def claim(conn: AsyncConnection, item: Pending, lease_until: int) -> Pending | None:
    """Take ``item`` for one attempt (its ``attempts`` grows by one); None if another process
    took it first. Other untried notifications of the same participant and channel that are
    due too (arrivals written at the same instant by concurrent requests or processes) are
    folded into it, so a digest or the end of quiet hours still sends one message."""
    taken = await conn.execute(
        update(notifications)
        .where(
            notifications.c.id == item.id,
            notifications.c.state == "pending",
            notifications.c.due_at == item.due_at,
            notifications.c.attempts == item.attempts,
        )
        .values(due_at=lease_until, attempts=item.attempts + 1)
    )
    if taken.rowcount != 1:
        return None
    if item.attempts != 0:
        return item
    absorbed = await conn.execute(
        delete(notifications)
        .where(
            notifications.c.participant_id == item.participant_id,
            notifications.c.channel == item.channel,
            notifications.c.state == "pending",
            notifications.c.attempts == 0,
            notifications.c.due_at <= item.due_at,
            notifications.c.id != item.id,
        )
        .returning(notifications.c.messages, notifications.c.details)
    )
    messages, details = item.messages, item.details
    for row in absorbed:
        messages += row.messages
        if row.details:
            details = [*(details or []), *((str(c), str(k)) for c, k in json.loads(row.details))]
    if messages == item.messages:
        return item
    await conn.execute(
        update(notifications)
        .where(notifications.c.id == item.id)
        .values(
            messages=messages,
            details=json.dumps([list(d) for d in details]) if details is not None else None,
        )
    )
    return replace(item, messages=messages, details=details)


async def settle(
    conn: AsyncConnection, attempt: Attempt, *, state: str, retry_at: int | None = None
) -> None:
    """Record ``attempt`` and move its notification on: finished in ``state``, or pending again
    until ``retry_at``."""
    await conn.execute(insert(notification_attempts).values(**attempt.__dict__))
    values: dict[str, object] = {"state": state}
    if state == "pending":
        values["due_at"] = retry_at
    else:
        values["finished_at"] = attempt.at
    await conn.execute(
        update(notifications).where(notifications.c.id == attempt.notification_id).values(**values)
    )


async def attempts_page(
    conn: AsyncConnection,
    *,
    after: int,
    limit: int,
    country: str | None,
    participant: str | None = None,
) -> list[dict[str, object]]:
    """Delivery attempts after cursor ``after``, oldest first; only the participants of
    ``country`` if given (an auditor's scope)."""
    query = (
        select(
            notification_attempts.c.seq,
            notification_attempts.c.notification_id,
            notification_attempts.c.participant_id,
            notification_attempts.c.channel,
            notification_attempts.c.at,
            notification_attempts.c.attempt,
            notification_attempts.c.outcome,
            notification_attempts.c.http_status,
            notification_attempts.c.smtp_code,
            notification_attempts.c.error,
        )
        .where(notification_attempts.c.seq > after)
        .order_by(notification_attempts.c.seq)
        .limit(limit)
    )
    if country is not None:
        query = query.join(
            participants_table, participants_table.c.id == notification_attempts.c.participant_id
        ).where(participants_table.c.country == country)
    if participant is not None:
        query = query.where(notification_attempts.c.participant_id == participant)
    return [dict(r._mapping) for r in await conn.execute(query)]
