"""Each participant's mailbox: the ordered, durable stream of what it is to receive.

Inbox pages and WebSocket resumes both ask for the items after a cursor. An item carries the
envelope's routing metadata (and, for a receipt, the receipt itself), so a client can list its
mailbox without downloading any envelope.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.tables import MailboxItemKind, ReceiptStatus, envelopes, mailbox, receipts

MAX_PAGE = 1000


@dataclass(frozen=True)
class MailboxItem:
    cursor: int
    item: MailboxItemKind
    # the envelope the item is about (for a receipt: the envelope it acknowledges)
    mid: str
    sender_id: str
    kind: str
    tlp: str
    grp: str | None
    size: int
    sha256: bytes
    iat: int
    exp: int
    accepted_at: int
    thread: str | None
    irt: str | None
    # receipt items only (None for envelope items)
    receipt_id: int | None
    receipt_by: str | None  # the recipient who signed it
    receipt_status: ReceiptStatus | None
    receipt_at: int | None  # the time the recipient states
    receipt_raw: str | None  # the signed receipt, exactly as received


_ITEM_COLUMNS = (
    mailbox.c.cursor,
    mailbox.c.item,
    envelopes.c.mid,
    envelopes.c.sender_id,
    envelopes.c.kind,
    envelopes.c.tlp,
    envelopes.c.grp,
    envelopes.c.size,
    envelopes.c.sha256,
    envelopes.c.iat,
    envelopes.c.exp,
    envelopes.c.accepted_at,
    envelopes.c.thread,
    envelopes.c.irt,
    receipts.c.id.label("receipt_id"),
    receipts.c.by_id.label("receipt_by"),
    receipts.c.status.label("receipt_status"),
    receipts.c.at.label("receipt_at"),
    receipts.c.raw.label("receipt_raw"),
)


async def items_after(
    conn: AsyncConnection, participant_id: str, after: int, limit: int
) -> list[MailboxItem]:
    """Up to ``limit`` (1 to :data:`MAX_PAGE`) items with a cursor above ``after``, in order."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    statement = (
        select(*_ITEM_COLUMNS)
        .select_from(
            mailbox.join(envelopes, envelopes.c.seq == mailbox.c.envelope_seq).outerjoin(
                receipts, receipts.c.id == mailbox.c.receipt_id
            )
        )
        .where(mailbox.c.participant_id == participant_id, mailbox.c.cursor > after)
        .order_by(mailbox.c.cursor)
        .limit(limit)
    )
    result = await conn.execute(statement)
    return [MailboxItem(**found._mapping) for found in result]


async def latest_cursor(conn: AsyncConnection, participant_id: str) -> int:
    """The participant's newest cursor; 0 when its mailbox is empty."""
    result = await conn.execute(
        select(func.coalesce(func.max(mailbox.c.cursor), 0)).where(
            mailbox.c.participant_id == participant_id
        )
    )
    return int(result.scalar_one())
