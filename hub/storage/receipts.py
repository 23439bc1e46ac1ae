"""Signed receipts stored by the hub and forwarded to the envelope's sender."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage._streams import lock_streams
from pgs_hub.hub.storage.tables import ReceiptStatus, mailbox, receipts


@dataclass(frozen=True)
class ReceiptRow:
    id: int | None  # assigned by the database; None before insertion
    envelope_seq: int
    by_id: str  # the recipient who signed it
    status: ReceiptStatus
    at: int  # the time the recipient states
    raw: str  # the signed receipt (JWS JSON) exactly as received
    sha256: bytes  # SHA-256 of ``raw``
    received_at: int  # when the hub stored it
    state_changed: bool | None = None  # whether it moved the delivery on (None: stored before 0006)


async def insert_receipt(conn: AsyncConnection, row: ReceiptRow, notify_participant: str) -> int:
    """Store a receipt and queue it (mailbox item ``receipt``) for ``notify_participant``,
    normally the envelope's sender. Returns the receipt id.
    """
    await lock_streams(conn)
    values = asdict(row)
    del values["id"]
    result = await conn.execute(insert(receipts).values(values).returning(receipts.c.id))
    receipt_id = int(result.scalar_one())
    await conn.execute(
        insert(mailbox).values(
            participant_id=notify_participant,
            item="receipt",
            envelope_seq=row.envelope_seq,
            receipt_id=receipt_id,
            created_at=row.received_at,
        )
    )
    return receipt_id


async def stored_receipt(
    conn: AsyncConnection, seq: int, by_id: str, sha256: bytes
) -> ReceiptRow | None:
    """The receipt with these exact bytes (``sha256``) that ``by_id`` already gave for envelope
    ``seq``, if any. Takes the stream-writer lock first (PostgreSQL; SQLite's write transaction
    serializes anyway), so two requests carrying the same receipt cannot both find none and both
    store it: call it in the transaction that would store the receipt."""
    await lock_streams(conn)
    found = (
        await conn.execute(
            select(receipts)
            .where(
                receipts.c.envelope_seq == seq,
                receipts.c.by_id == by_id,
                receipts.c.sha256 == sha256,
            )
            .order_by(receipts.c.id)
            .limit(1)
        )
    ).first()
    return ReceiptRow(**found._mapping) if found is not None else None


async def receipts_of(conn: AsyncConnection, seq: int) -> list[ReceiptRow]:
    """The receipts stored for an envelope, oldest first."""
    result = await conn.execute(
        select(receipts).where(receipts.c.envelope_seq == seq).order_by(receipts.c.id)
    )
    return [ReceiptRow(**found._mapping) for found in result]
