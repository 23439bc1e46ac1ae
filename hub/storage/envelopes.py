"""Accepted envelopes and their per-recipient delivery state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.errors import Conflict
from hub.storage._streams import lock_streams
from hub.storage.tables import DeliveryState, deliveries, envelopes, mailbox


@dataclass(frozen=True)
class EnvelopeRow:
    seq: int | None  # assigned by the database; None before insertion
    mid: str
    sender_id: str
    sender_kid: str
    kind: str
    tlp: str
    grp: str | None
    iat: int
    exp: int
    size: int
    sha256: bytes  # SHA-256 of ``raw``
    raw: bytes  # the envelope exactly as received
    accepted_at: int
    thread: str | None
    irt: str | None


@dataclass(frozen=True)
class DeliveryRow:
    envelope_seq: int
    recipient_id: str
    recipient_kid: str  # the encryption key the envelope was sealed to
    state: DeliveryState
    delivered_at: int | None
    read_at: int | None


async def insert_envelope(
    conn: AsyncConnection, row: EnvelopeRow, recipients: Sequence[tuple[str, str]]
) -> int:
    """Store an accepted envelope with one queued delivery and one mailbox item per recipient.

    ``recipients`` are ``(participant id, encryption kid)`` pairs. Returns the new ``seq``.
    Raises :class:`Conflict` (``envelope.duplicate``) if an envelope with this ``mid`` is stored;
    then nothing of this call is written and the caller's transaction stays usable.
    """
    if len({recipient_id for recipient_id, _ in recipients}) != len(recipients):
        raise ValueError("each recipient may be named only once")
    await lock_streams(conn)
    try:
        async with conn.begin_nested():
            values = asdict(row)
            del values["seq"]
            result = await conn.execute(insert(envelopes).values(values).returning(envelopes.c.seq))
            seq = int(result.scalar_one())
            if recipients:
                await conn.execute(
                    insert(deliveries),
                    [
                        {
                            "envelope_seq": seq,
                            "recipient_id": recipient_id,
                            "recipient_kid": recipient_kid,
                            "state": "queued",
                        }
                        for recipient_id, recipient_kid in recipients
                    ],
                )
                await conn.execute(
                    insert(mailbox),
                    [
                        {
                            "participant_id": recipient_id,
                            "item": "envelope",
                            "envelope_seq": seq,
                            "created_at": row.accepted_at,
                        }
                        for recipient_id, _ in recipients
                    ],
                )
    except IntegrityError:
        if await envelope_by_mid(conn, row.mid) is None:
            raise
        raise Conflict(
            "an envelope with this message id has already been accepted",
            code="envelope.duplicate",
        ) from None
    return seq


async def envelope_by_mid(conn: AsyncConnection, mid: str) -> EnvelopeRow | None:
    result = await conn.execute(select(envelopes).where(envelopes.c.mid == mid))
    found = result.one_or_none()
    return None if found is None else EnvelopeRow(**found._mapping)


async def deliveries_of(conn: AsyncConnection, seq: int) -> list[DeliveryRow]:
    """The envelope's deliveries, by recipient id."""
    result = await conn.execute(
        select(deliveries)
        .where(deliveries.c.envelope_seq == seq)
        .order_by(deliveries.c.recipient_id)
    )
    return [DeliveryRow(**found._mapping) for found in result]


async def delivery(conn: AsyncConnection, seq: int, recipient_id: str) -> DeliveryRow | None:
    result = await conn.execute(
        select(deliveries).where(
            deliveries.c.envelope_seq == seq, deliveries.c.recipient_id == recipient_id
        )
    )
    found = result.one_or_none()
    return None if found is None else DeliveryRow(**found._mapping)


async def advance_delivery(
    conn: AsyncConnection,
    seq: int,
    recipient_id: str,
    state: Literal["delivered", "read"],
    at: int,
) -> bool:
    """Move a delivery forward (queued → delivered → read); returns whether it changed.

    A delivery never moves back, and an expired one stays expired. Reaching ``read`` straight
    from ``queued`` also records ``delivered_at`` (reading implies delivery).
    """
    key = and_(deliveries.c.envelope_seq == seq, deliveries.c.recipient_id == recipient_id)
    if state == "delivered":
        statement = (
            update(deliveries)
            .where(key, deliveries.c.state == "queued")
            .values(state="delivered", delivered_at=at)
        )
    elif state == "read":
        statement = (
            update(deliveries)
            .where(key, deliveries.c.state.in_(("queued", "delivered")))
            .values(
                state="read", read_at=at, delivered_at=func.coalesce(deliveries.c.delivered_at, at)
            )
        )
    else:
        raise ValueError(f"a delivery cannot be advanced to {state!r}")
    result = await conn.execute(statement)
    return result.rowcount == 1


async def expire_deliveries(conn: AsyncConnection, now: int) -> int:
    """Mark queued and delivered deliveries of envelopes past ``exp`` as expired; returns how many.

    Read deliveries keep their state.
    """
    expired = select(envelopes.c.seq).where(envelopes.c.exp <= now)
    result = await conn.execute(
        update(deliveries)
        .where(
            deliveries.c.state.in_(("queued", "delivered")),
            deliveries.c.envelope_seq.in_(expired),
        )
        .values(state="expired")
    )
    return result.rowcount
