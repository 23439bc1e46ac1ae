"""Accepted envelopes and their per-recipient delivery state."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Final, Literal

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Conflict
from pgs_hub.hub.storage import _streams, blobs
from pgs_hub.hub.storage import batch as plans
from pgs_hub.hub.storage.batch import Step
from pgs_hub.hub.storage.tables import DeliveryState, deliveries, envelopes, mailbox


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
    purged_at: int | None = None  # retention removed the body (raw is then empty)


_ENVELOPE_COLUMNS: Final = tuple(f.name for f in fields(EnvelopeRow) if f.name != "seq")


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
    try:
        async with conn.begin_nested():
            (seq,) = await insert_envelopes(conn, [(row, recipients)])
    except IntegrityError:
        if await envelope_by_mid(conn, row.mid) is None:
            raise
        raise duplicate() from None
    return seq


def duplicate() -> Conflict:
    """The error for an envelope whose message id is already taken."""
    return Conflict(
        "an envelope with this message id has already been accepted", code=Code.ENVELOPE_DUPLICATE
    )


Batch = Sequence[tuple[EnvelopeRow, Sequence[tuple[str, str]]]]
_Routed = list[tuple[int, EnvelopeRow, str, str]]  # (envelope seq, envelope, recipient, its kid)


def _routed(batch: Batch, seqs: Sequence[int]) -> _Routed:
    """Each (envelope, recipient) pair of ``batch``, envelope ``seqs[i]`` for ``batch[i]``;
    raises ValueError if an envelope names a recipient twice."""
    for _, recipients in batch:
        if len({recipient_id for recipient_id, _ in recipients}) != len(recipients):
            raise ValueError("each recipient may be named only once")
    return [
        (seq, row, recipient_id, recipient_kid)
        for seq, (row, recipients) in zip(seqs, batch, strict=True)
        for recipient_id, recipient_kid in recipients
    ]


def _delivery_rows(routed: _Routed) -> list[dict[str, object]]:
    return [
        {"envelope_seq": seq, "recipient_id": rid, "recipient_kid": kid, "state": "queued"}
        for seq, _, rid, kid in routed
    ]


def _mailbox_rows(routed: _Routed, cursors: Iterator[int] | None) -> list[dict[str, object]]:
    """One mailbox item per pair; with ``cursors``, numbered from it (else the database numbers
    them)."""
    rows: list[dict[str, object]] = [
        {"participant_id": rid, "item": "envelope", "envelope_seq": seq,
         "created_at": row.accepted_at}
        for seq, row, rid, _ in routed
    ]  # fmt: skip
    if cursors is not None:
        for item in rows:
            item["cursor"] = next(cursors)
    return rows


async def insert_envelopes(conn: AsyncConnection, batch: Batch) -> list[int]:
    """:func:`insert_envelope` for many envelopes at once, in the caller's transaction: the
    steps the envelopes' group commit runs (:func:`insert_steps`), with numbers reserved first
    under the stream lock, one statement per table.

    Returns the new ``seq`` of each envelope, in order. Envelopes, and so their mailbox items,
    are numbered in the order of ``batch``. Raises :class:`~sqlalchemy.exc.IntegrityError` if a
    message id is already stored or repeated in ``batch``; run it in a SAVEPOINT to go on.
    """
    if not batch:
        return []
    _routed(batch, [0] * len(batch))  # refuses a recipient named twice before anything is sent
    return await plans.run(conn, _insert_plan(conn.dialect.name, batch))


def _insert_plan(dialect: str, batch: Batch) -> plans.Plan[list[int]]:
    wanted = {"envelopes": len(batch), "mailbox": sum(len(r) for _, r in batch)}
    lock = _streams.lock_step(dialect)
    reserved = yield plans.Steps(
        [*([lock] if lock else []), _streams.numbers_step(dialect, wanted)]
    )
    if isinstance(reserved, Exception):  # pragma: no cover - raised by plans.run, never sent
        raise reserved
    numbers = _streams.numbers(dialect, reserved[-1], wanted)
    yield plans.Steps(insert_steps(batch, numbers["envelopes"], iter(numbers["mailbox"])))
    return numbers["envelopes"]


_INSERT_ENVELOPES: Final = insert(envelopes)
_INSERT_DELIVERIES: Final = insert(deliveries)
_INSERT_MAILBOX: Final = insert(mailbox)
_SEQ_OF_MID: Final = select(envelopes.c.seq).where(envelopes.c.mid == bindparam("mid"))


def insert_steps(batch: Batch, seqs: Sequence[int], cursors: Iterator[int]) -> list[Step]:
    """:func:`insert_envelopes` as steps of a plan (:mod:`hub.storage.batch`), with the numbers
    given: envelope ``seqs[i]`` for ``batch[i]``, mailbox cursors taken from ``cursors`` in
    order (reserved by :func:`hub.storage._streams.numbers_step`, under the stream lock)."""
    if not batch:
        return []
    routed = _routed(batch, seqs)
    values = [
        {"seq": seq, **{name: getattr(row, name) for name in _ENVELOPE_COLUMNS}}
        for seq, (row, _) in zip(seqs, batch, strict=True)
    ]
    steps = [Step(_INSERT_ENVELOPES, values)]
    if routed:
        steps.append(Step(_INSERT_DELIVERIES, _delivery_rows(routed)))
        steps.append(Step(_INSERT_MAILBOX, _mailbox_rows(routed, cursors)))
    return steps


def bind_upload_steps(owner_id: str, mid: str, ids: Sequence[str]) -> list[Step]:
    """:func:`hub.storage.blobs.bind` as steps of a plan, to run in a SAVEPOINT: one of them
    fails (:class:`~hub.storage.batch.RowsMismatch`) unless every upload could be bound. The
    caller refuses ``ids`` naming one upload twice beforehand, as ``bind`` does."""
    return [
        Step(blobs.BIND_ONE, [{"upload": i, "owner": owner_id, "bound_mid": mid}], expect=1)
        for i in ids
    ]


def seq_of_mid_step(mid: str) -> Step:
    """The ``seq`` of envelope ``mid`` (no row: none stored) as a step of a plan."""
    return Step(_SEQ_OF_MID, [{"mid": mid}], returns=True)


async def envelope_by_mid(conn: AsyncConnection, mid: str) -> EnvelopeRow | None:
    result = await conn.execute(select(envelopes).where(envelopes.c.mid == mid))
    found = result.one_or_none()
    return None if found is None else EnvelopeRow(**found._mapping)


async def sender_and_addressed(
    conn: AsyncConnection, mid: str, recipient_id: str
) -> tuple[str, bool] | None:
    """Envelope ``mid``'s sender and whether ``recipient_id`` is one of its recipients (None: no
    such envelope), in one statement: all a log entry's visibility check needs of it, without
    reading the envelope's body or making a second round trip for the delivery."""
    addressed = exists().where(
        deliveries.c.envelope_seq == envelopes.c.seq, deliveries.c.recipient_id == recipient_id
    )
    row = (
        await conn.execute(select(envelopes.c.sender_id, addressed).where(envelopes.c.mid == mid))
    ).first()
    return None if row is None else (str(row[0]), bool(row[1]))


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


async def purge_delivered_bodies(
    conn: AsyncConnection, finished_before: int, now: int
) -> list[str]:
    """Empty the body of every envelope whose deliveries are all finished (delivered, read or
    expired) and the last of them finished before ``finished_before``; size, hash, metadata,
    deliveries and the log are kept. Returns the message ids whose bodies were purged (so the
    caller removes their attachment blobs in the same transaction)."""
    open_or_recent = select(deliveries.c.envelope_seq).where(
        or_(
            deliveries.c.state == "queued",
            func.coalesce(deliveries.c.read_at, deliveries.c.delivered_at, 0) > finished_before,
        )
    )
    finished = (
        select(deliveries.c.envelope_seq)
        .where(deliveries.c.state != "queued")
        .where(deliveries.c.envelope_seq.not_in(open_or_recent))
    )
    result = await conn.execute(
        update(envelopes)
        .where(
            envelopes.c.purged_at.is_(None),
            envelopes.c.seq.in_(finished),
            # an expired delivery has no time of its own: the envelope's exp stands for it
            or_(
                envelopes.c.exp < finished_before,
                ~select(deliveries.c.envelope_seq)
                .where(
                    deliveries.c.envelope_seq == envelopes.c.seq,
                    deliveries.c.state == "expired",
                )
                .exists(),
            ),
        )
        .values(raw=b"", purged_at=now)
        .returning(envelopes.c.mid)
    )
    return [r.mid for r in result]
