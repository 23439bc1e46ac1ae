"""Read-only queries behind the web console: traffic counts, the message log (metadata only),
checkpoint history and key events. Nothing here reads an envelope's ``raw`` bytes.

Every query takes a :class:`Selection`: the period and the filters a user asked for, already
combined with what the reader may see (a country, a participant) by the console's service layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from pgs_hub.hub.storage.tables import (
    audit_records,
    deliveries,
    envelopes,
    log_checkpoints,
    participant_keys,
    participants,
)

DAY = 86400
MAX_DURATIONS = 100_000
KEY_EVENT_PREFIXES = ("participant.", "keys.")


@dataclass(frozen=True)
class Selection:
    """Envelopes accepted in ``[start, end)``, optionally of one kind or with one message id,
    involving every one of ``countries`` (as sender or recipient) and every one of
    ``participants`` (each as the sender or a recipient)."""

    start: int
    end: int
    kind: str | None = None
    countries: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    mid: str | None = None


def _involves_country(country: str) -> ColumnElement[bool]:
    # Aliases: the outer query may join ``participants`` itself, which must not be correlated.
    sender = participants.alias("s_country")
    receiver = participants.alias("r_country")
    by_sender = select(sender.c.id).where(
        sender.c.id == envelopes.c.sender_id, sender.c.country == country
    )
    by_recipient = (
        select(deliveries.c.recipient_id)
        .join(receiver, receiver.c.id == deliveries.c.recipient_id)
        .where(deliveries.c.envelope_seq == envelopes.c.seq, receiver.c.country == country)
    )
    return or_(exists(by_sender), exists(by_recipient))


def _involves_participant(pid: str) -> ColumnElement[bool]:
    recipient = select(deliveries.c.recipient_id).where(
        deliveries.c.envelope_seq == envelopes.c.seq, deliveries.c.recipient_id == pid
    )
    return or_(envelopes.c.sender_id == pid, exists(recipient))


def _where(sel: Selection) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        envelopes.c.accepted_at >= sel.start,
        envelopes.c.accepted_at < sel.end,
    ]
    if sel.kind is not None:
        conditions.append(envelopes.c.kind == sel.kind)
    if sel.mid is not None:
        conditions.append(envelopes.c.mid == sel.mid)
    conditions.extend(_involves_country(c) for c in dict.fromkeys(sel.countries))
    conditions.extend(_involves_participant(p) for p in dict.fromkeys(sel.participants))
    return and_(*conditions)


# --- traffic -----------------------------------------------------------------------------------


async def per_day_and_kind(conn: AsyncConnection, sel: Selection) -> list[tuple[int, str, int]]:
    """(day number since the epoch, kind, messages) for the selection."""
    # An inline constant: a bound parameter would make GROUP BY differ from the select list.
    day = (envelopes.c.accepted_at // literal_column(str(DAY))).label("day")
    rows = await conn.execute(
        select(day, envelopes.c.kind, func.count().label("n"))
        .where(_where(sel))
        .group_by(day, envelopes.c.kind)
        .order_by(day, envelopes.c.kind)
    )
    return [(int(r.day), str(r.kind), int(r.n)) for r in rows]


async def per_sender_country(conn: AsyncConnection, sel: Selection) -> list[tuple[str, int]]:
    """(sender's country, messages) for the selection."""
    rows = await conn.execute(
        select(participants.c.country, func.count().label("n"))
        .select_from(envelopes.join(participants, participants.c.id == envelopes.c.sender_id))
        .where(_where(sel))
        .group_by(participants.c.country)
    )
    return [(str(r.country), int(r.n)) for r in rows]


async def country_pairs(
    conn: AsyncConnection, sel: Selection, limit: int = 10
) -> list[tuple[str, str, int]]:
    """The busiest (sender country, recipient country) pairs: messages between them."""
    sender = participants.alias("sender")
    recipient = participants.alias("recipient")
    count = func.count(func.distinct(envelopes.c.seq)).label("n")
    rows = await conn.execute(
        select(sender.c.country.label("src"), recipient.c.country.label("dst"), count)
        .select_from(
            envelopes.join(sender, sender.c.id == envelopes.c.sender_id)
            .join(deliveries, deliveries.c.envelope_seq == envelopes.c.seq)
            .join(recipient, recipient.c.id == deliveries.c.recipient_id)
        )
        .where(_where(sel))
        .group_by(sender.c.country, recipient.c.country)
        .order_by(count.desc(), sender.c.country, recipient.c.country)
        .limit(limit)
    )
    return [(str(r.src), str(r.dst), int(r.n)) for r in rows]


async def delivery_states(conn: AsyncConnection, sel: Selection) -> dict[str, int]:
    """How many deliveries of the selection are in each state."""
    rows = await conn.execute(
        select(deliveries.c.state, func.count().label("n"))
        .select_from(deliveries.join(envelopes, envelopes.c.seq == deliveries.c.envelope_seq))
        .where(_where(sel))
        .group_by(deliveries.c.state)
    )
    return {str(r.state): int(r.n) for r in rows}


async def delivery_seconds(conn: AsyncConnection, sel: Selection) -> list[int]:
    """Seconds from acceptance to delivery of each delivered copy (at most MAX_DURATIONS)."""
    took = (deliveries.c.delivered_at - envelopes.c.accepted_at).label("took")
    rows = await conn.execute(
        select(took)
        .select_from(deliveries.join(envelopes, envelopes.c.seq == deliveries.c.envelope_seq))
        .where(_where(sel), deliveries.c.delivered_at.is_not(None))
        .order_by(took)
        .limit(MAX_DURATIONS)
    )
    return [int(r.took) for r in rows]


# --- the message log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRow:
    seq: int
    mid: str
    accepted_at: int
    sender_id: str
    sender_country: str
    kind: str
    tlp: str
    size: int
    group: str | None


@dataclass(frozen=True)
class DeliveryRow:
    envelope_seq: int
    recipient_id: str
    recipient_country: str
    state: str
    delivered_at: int | None
    read_at: int | None


def _log_select(sel: Selection) -> Select[tuple[object, ...]]:
    return (
        select(
            envelopes.c.seq,
            envelopes.c.mid,
            envelopes.c.accepted_at,
            envelopes.c.sender_id,
            participants.c.country,
            envelopes.c.kind,
            envelopes.c.tlp,
            envelopes.c.size,
            envelopes.c.grp,
        )
        .select_from(envelopes.join(participants, participants.c.id == envelopes.c.sender_id))
        .where(_where(sel))
    )


async def count_messages(conn: AsyncConnection, sel: Selection) -> int:
    found = await conn.scalar(select(func.count()).select_from(envelopes).where(_where(sel)))
    return int(found or 0)


async def messages(
    conn: AsyncConnection, sel: Selection, *, offset: int, limit: int
) -> list[LogRow]:
    """One page of the selection, newest first (metadata only)."""
    rows = await conn.execute(
        _log_select(sel).order_by(envelopes.c.seq.desc()).offset(offset).limit(limit)
    )
    return [
        LogRow(
            seq=int(r.seq), mid=str(r.mid), accepted_at=int(r.accepted_at),
            sender_id=str(r.sender_id), sender_country=str(r.country), kind=str(r.kind),
            tlp=str(r.tlp), size=int(r.size), group=r.grp,
        )
        for r in rows
    ]  # fmt: skip


async def deliveries_of(conn: AsyncConnection, seqs: Sequence[int]) -> list[DeliveryRow]:
    if not seqs:
        return []
    rows = await conn.execute(
        select(
            deliveries.c.envelope_seq,
            deliveries.c.recipient_id,
            participants.c.country,
            deliveries.c.state,
            deliveries.c.delivered_at,
            deliveries.c.read_at,
        )
        .select_from(deliveries.join(participants, participants.c.id == deliveries.c.recipient_id))
        .where(deliveries.c.envelope_seq.in_(list(seqs)))
        .order_by(deliveries.c.envelope_seq, deliveries.c.recipient_id)
    )
    return [
        DeliveryRow(
            envelope_seq=int(r.envelope_seq), recipient_id=str(r.recipient_id),
            recipient_country=str(r.country), state=str(r.state),
            delivered_at=r.delivered_at, read_at=r.read_at,
        )
        for r in rows
    ]  # fmt: skip


# --- audit and directory -----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    root: bytes
    note: str
    signed_at: int


async def checkpoints(conn: AsyncConnection, limit: int) -> list[CheckpointRow]:
    """The newest ``limit`` signed checkpoints, newest first."""
    rows = await conn.execute(
        select(log_checkpoints).order_by(log_checkpoints.c.size.desc()).limit(limit)
    )
    return [CheckpointRow(int(r.size), bytes(r.root), str(r.note), int(r.signed_at)) for r in rows]


@dataclass(frozen=True)
class ParticipantRow:
    id: str
    country: str
    role: str
    scope: str | None
    status: str


async def directory(conn: AsyncConnection) -> list[ParticipantRow]:
    rows = await conn.execute(
        select(
            participants.c.id,
            participants.c.country,
            participants.c.role,
            participants.c.scope,
            participants.c.status,
        ).order_by(participants.c.country, participants.c.id)
    )
    return [
        ParticipantRow(str(r.id), str(r.country), str(r.role), r.scope, str(r.status)) for r in rows
    ]


@dataclass(frozen=True)
class KeyRow:
    participant_id: str
    kid: str
    use: str
    state: str


async def keys(conn: AsyncConnection) -> list[KeyRow]:
    """Every key id (never key material), by participant."""
    rows = await conn.execute(
        select(
            participant_keys.c.participant_id,
            participant_keys.c.kid,
            participant_keys.c.use,
            participant_keys.c.state,
        ).order_by(
            participant_keys.c.participant_id, participant_keys.c.created_at, participant_keys.c.kid
        )
    )
    return [KeyRow(str(r.participant_id), str(r.kid), str(r.use), str(r.state)) for r in rows]


@dataclass(frozen=True)
class KeyEvent:
    log_index: int
    at: int
    event: str
    subject: str | None
    country: str | None


async def key_events(conn: AsyncConnection, limit: int = 500) -> list[KeyEvent]:
    """Enrolments, rotations and status changes with their log indexes, newest first."""
    condition = or_(*(audit_records.c.event.startswith(p) for p in KEY_EVENT_PREFIXES))
    rows = await conn.execute(
        select(
            audit_records.c.log_index,
            audit_records.c.at,
            audit_records.c.event,
            audit_records.c.subject,
            audit_records.c.country,
        )
        .where(condition)
        .order_by(audit_records.c.log_index.desc())
        .limit(limit)
    )
    return [KeyEvent(int(r.log_index), int(r.at), str(r.event), r.subject, r.country) for r in rows]
