"""What a participant may list and fetch: its mailbox (envelopes addressed to it, receipts for
envelopes it sent), single envelopes, and the delivery state of what it sent.

Visibility failures raise exactly the error a missing object raises, so nobody can learn whether a
message id exists by asking for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto.b64 import b64u_encode
from hub.errors import Gone, NotFound
from hub.policy.decisions import can_read_envelope
from hub.policy.groups import Member
from hub.services.audit import record_denial
from hub.services.context import HubContext
from hub.storage import envelopes, mailbox

MAX_PAGE = 500


def envelope_not_found() -> NotFound:
    """The answer for a missing envelope and for one the caller may not see: the same."""
    return NotFound("no such envelope for you", code="envelope.not_found")


def item_json(item: mailbox.MailboxItem) -> dict[str, Any]:
    """The wire form of a mailbox item (inbox pages and WebSocket frames share it)."""
    doc: dict[str, Any] = {"cursor": item.cursor, "type": item.item, "mid": item.mid}
    if item.item == "envelope":
        doc |= {
            "from": item.sender_id,
            "kind": item.kind,
            "tlp": item.tlp,
            "group": item.grp,
            "size": item.size,
            "envelope_sha256": b64u_encode(item.sha256),
            "iat": item.iat,
            "exp": item.exp,
            "accepted_at": item.accepted_at,
        }
    else:
        doc |= {
            "by": item.receipt_by,
            "status": item.receipt_status,
            "at": item.receipt_at,
            "receipt": item.receipt_raw,
        }
    return doc


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: int

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "next": self.next_cursor}


async def inbox(ctx: HubContext, reader: Member, after: int, limit: int) -> Page:
    limit = max(1, min(limit, MAX_PAGE))
    async with ctx.reader.connect() as conn:
        items = await mailbox.items_after(conn, reader.id, after, limit)
    return Page([item_json(i) for i in items], items[-1].cursor if items else after)


async def fetch(ctx: HubContext, reader: Member, mid: str) -> bytes:
    """The exact envelope bytes, for its sender and its recipients only."""
    async with ctx.reader.connect() as conn:
        row = await envelopes.envelope_by_mid(conn, mid)
        recipients = (
            {d.recipient_id for d in await envelopes.deliveries_of(conn, row.seq or 0)}
            if row is not None
            else set()
        )
    if row is None:
        raise envelope_not_found()
    if not can_read_envelope(reader, row.sender_id, recipients):
        await record_denial(
            ctx, actor=reader, action="envelope.fetch", reason="not_addressed", subject=mid
        )
        raise envelope_not_found()
    if row.purged_at is not None:
        raise Gone(
            "this message's body was removed after every recipient had received it (retention); "
            "its metadata and audit-log entry remain",
            code="envelope.purged",
        )
    return row.raw


async def status(ctx: HubContext, reader: Member, mid: str) -> dict[str, Any]:
    """Per-recipient delivery state, for the sender."""
    async with ctx.reader.connect() as conn:
        row = await envelopes.envelope_by_mid(conn, mid)
        deliveries = await envelopes.deliveries_of(conn, row.seq or 0) if row else []
    if row is None or row.sender_id != reader.id:
        if row is not None:
            await record_denial(
                ctx, actor=reader, action="envelope.status", reason="not_sender", subject=mid
            )
        raise envelope_not_found()
    return {
        "mid": mid,
        "accepted_at": row.accepted_at,
        "exp": row.exp,
        "recipients": [
            {
                "id": d.recipient_id,
                "state": d.state,
                "delivered_at": d.delivered_at,
                "read_at": d.read_at,
            }
            for d in deliveries
        ],
    }
