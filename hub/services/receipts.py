"""Recording a recipient's signed receipt and forwarding it to the sender's mailbox.

Idempotent: the same receipt (the same bytes, from the same recipient, for the same envelope)
posted again is answered with the first outcome; it is stored, forwarded and audited once."""

from __future__ import annotations

import hashlib
import hmac

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Forbidden, InvalidRequest
from pgs_hub.hub.policy.authorize import Action, Envelope, envelope_not_found
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import audit, envelopes, receipts
from pgs_hub.protocols import api
from pgs_hub.protocols.receipts import MAX_RECEIPT_BYTES, read_receipt, verify_receipt


async def record(ctx: HubContext, caller: Member, mid: str, raw: bytes) -> api.ReceiptRecorded:
    """Verify ``raw`` as ``caller``'s receipt for envelope ``mid`` and store it."""
    if len(raw) > MAX_RECEIPT_BYTES:
        raise InvalidRequest(
            f"a receipt is at most {MAX_RECEIPT_BYTES} bytes", code=Code.RECEIPT_TOO_LARGE
        )
    signed, claimed = read_receipt(raw)
    async with ctx.reader.connect() as conn:
        author, key = await ctx.directory.signer(conn, signed.kid, ctx.now())
        row = await envelopes.envelope_by_mid(conn, mid)
        # Read for a missing envelope too (no envelope has sequence number 0): the same work.
        delivery = await envelopes.delivery(conn, row.seq if row and row.seq else 0, caller.id)
    # The caller's own delivery row is what makes it a recipient; the policy decides on it, and
    # refuses a missing envelope and one not addressed to the caller alike.
    addressed = frozenset({caller.id}) if delivery is not None else frozenset()
    resource = Envelope(sender=row.sender_id if row else "", recipients=addressed)
    await authorize(ctx, caller, Action.RECEIPT, resource, subject=mid)
    if row is None:  # pragma: no cover - the policy refused it above
        raise envelope_not_found()
    if author.id != caller.id or claimed.by != caller.id:
        raise Forbidden(
            "a receipt must be signed by and name its sender", code=Code.RECEIPT_IMPERSONATION
        )
    # A purged envelope (retention) keeps its hash: the receipt must name that.
    receipt = verify_receipt(raw, key, envelope=row.raw if row.purged_at is None else None)
    if row.purged_at is not None and not hmac.compare_digest(
        receipt.envelope_sha256, b64u_encode(row.sha256)
    ):
        raise InvalidRequest(
            "the receipt does not name this envelope's exact bytes",
            code=Code.RECEIPT_WRONG_ENVELOPE,
        )
    if receipt.mid != mid:
        raise InvalidRequest(
            "the receipt names another message id", code=Code.RECEIPT_WRONG_MESSAGE
        )
    now = ctx.now()
    at = int(receipt.at.timestamp())
    async with ctx.reader.connect() as conn:
        sender = await ctx.directory.member(conn, row.sender_id)
    sender_country = sender.country if sender else None
    digest = hashlib.sha256(raw).digest()
    async with ctx.engine.begin() as conn:
        # The same receipt again (a retry after a lost answer, say): the first outcome, and
        # nothing stored, forwarded or audited a second time.
        first = await receipts.stored_receipt(conn, row.seq or 0, caller.id, digest)
        if first is not None:
            if first.id is None:  # pragma: no cover - a stored row has its id
                raise RuntimeError("a stored receipt without an id")
            return api.ReceiptRecorded(
                id=first.id, mid=mid, status=first.status, state_changed=bool(first.state_changed)
            )
        changed = await envelopes.advance_delivery(
            conn, row.seq or 0, caller.id, receipt.status.value, now
        )
        receipt_id = await receipts.insert_receipt(
            conn,
            receipts.ReceiptRow(
                id=None,
                envelope_seq=row.seq or 0,
                by_id=caller.id,
                status=receipt.status.value,
                at=at,
                raw=raw.decode("utf-8"),
                sha256=digest,
                received_at=now,
                state_changed=changed,
            ),
            notify_participant=row.sender_id,
        )
        await audit.append_record(
            conn,
            at=now,
            event="receipt.recorded",
            actor=caller.id,
            subject=mid,
            country=caller.country,
            countries=[sender_country] if sender_country else [],
            details={
                "mid": mid,
                "status": receipt.status.value,
                "receipt_sha256": b64u_encode(digest),
            },
        )
    ctx.metrics.inc("pgs_receipts_total", status=receipt.status.value)
    ctx.notifier.notify([row.sender_id])
    return api.ReceiptRecorded(
        id=receipt_id, mid=mid, status=receipt.status.value, state_changed=changed
    )
