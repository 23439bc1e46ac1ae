"""Accepting an envelope: authenticate it by its own signature, apply the policy, store it durably
with its deliveries, mailbox entries and audit record in one transaction, then wake recipients.

Only after the transaction commits is anything acknowledged. A resubmission of the same bytes gets
the original acceptance back (idempotent by message id); the same id with other bytes is a 409.
"""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from crypto import jws
from crypto.b64 import b64u_encode
from crypto.envelope import envelope_digest
from crypto.strictjson import dumps
from hub.errors import Conflict, Forbidden, HubError, TooLarge
from hub.policy.decisions import check_can_send
from hub.policy.groups import Member, members
from hub.services.audit import record_denial
from hub.services.context import HubContext
from hub.services.members import all_members, signer
from hub.storage import audit, envelopes
from protocols.envelope import read_header, verify_message
from protocols.routing import RoutingHeader

ACCEPTANCE_TYP = "pgs-acceptance+jose"


@dataclass(frozen=True)
class Acceptance:
    """What the hub answers to an accepted submission (also on an identical resubmission)."""

    mid: str
    envelope_sha256: str
    accepted_at: int
    recipients: tuple[str, ...]
    signed: bytes  # the same facts as a JWS by the hub's key
    duplicate: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "mid": self.mid,
            "envelope_sha256": self.envelope_sha256,
            "accepted_at": self.accepted_at,
            "recipients": list(self.recipients),
            "acceptance": self.signed.decode("ascii"),
        }


def _acceptance(
    ctx: HubContext, row: envelopes.EnvelopeRow, recipients: tuple[str, ...], duplicate: bool
) -> Acceptance:
    digest = b64u_encode(row.sha256)
    statement = dumps(
        {
            "v": "pgs/1",
            "mid": row.mid,
            "envelope_sha256": digest,
            "accepted_at": row.accepted_at,
            "recipients": list(recipients),
        }
    )
    return Acceptance(
        mid=row.mid,
        envelope_sha256=digest,
        accepted_at=row.accepted_at,
        recipients=recipients,
        signed=jws.sign(statement, ctx.hub_key, typ=ACCEPTANCE_TYP),
        duplicate=duplicate,
    )


async def _existing(
    ctx: HubContext, conn: AsyncConnection, mid: str, digest: bytes
) -> Acceptance | None:
    row = await envelopes.envelope_by_mid(conn, mid)
    if row is None:
        return None
    if not hmac.compare_digest(row.sha256, digest):
        raise Conflict(
            "a different envelope with this message id was already accepted",
            code="envelope.id_conflict",
        )
    recipients = tuple(d.recipient_id for d in await envelopes.deliveries_of(conn, row.seq or 0))
    return _acceptance(ctx, row, recipients, duplicate=True)


async def _recipients(
    conn: AsyncConnection, ctx: HubContext, header: RoutingHeader
) -> tuple[list[Member | None], tuple[Member, ...] | None]:
    everyone = {m.id: m for m in await all_members(conn)}
    recipients = [everyone.get(a.id) for a in header.to]
    group = (
        members(ctx.policy.current, header.grp, everyone.values())
        if header.grp is not None
        else None
    )
    return recipients, group


async def submit(ctx: HubContext, raw: bytes) -> Acceptance:
    """Validate, authorize and durably store ``raw``; raises a hub, crypto or protocol error."""
    limits = ctx.policy.current.limits
    if len(raw) > limits.max_envelope_bytes:
        raise TooLarge(f"the envelope is larger than {limits.max_envelope_bytes} bytes")
    unverified, header = read_header(raw)
    digest = envelope_digest(raw)
    now = ctx.now()
    async with ctx.engine.connect() as conn:
        sender, key = await signer(conn, unverified.signer_kid)
        verify_message(raw, key)  # one Ed25519 verification authenticates everything
        previous = await _existing(ctx, conn, header.mid, digest)
        if previous is not None:
            if sender.id != header.sender.id:
                raise Forbidden(
                    "a participant may only send as itself", code="sender.impersonation"
                )
            return previous
        recipients, group = await _recipients(conn, ctx, header)
    try:
        check_can_send(ctx.policy.current, sender, header, recipients, group, now)
    except HubError as exc:
        await record_denial(
            ctx, actor=sender, action="envelope.submit", reason=exc.code, subject=header.mid
        )
        raise
    row = envelopes.EnvelopeRow(
        seq=None,
        mid=header.mid,
        sender_id=header.sender.id,
        sender_kid=header.sender.kid,
        kind=header.kind.value,
        tlp=header.tlp.value,
        grp=header.grp,
        iat=header.iat,
        exp=header.exp,
        size=len(raw),
        sha256=digest,
        raw=raw,
        accepted_at=now,
        thread=header.thread,
        irt=header.irt,
    )
    pairs = [(a.id, a.kid) for a in header.to]
    try:
        async with ctx.engine.begin() as conn:
            seq = await envelopes.insert_envelope(conn, row, pairs)
            await audit.append_record(
                conn,
                at=now,
                event="envelope.accepted",
                actor=sender.id,
                subject=header.mid,
                country=sender.country,
                countries=[m.country for m in recipients if m is not None],
                details={
                    "mid": header.mid,
                    "sender": sender.id,
                    "recipients": [a.id for a in header.to],
                    "kind": header.kind.value,
                    "tlp": header.tlp.value,
                    "group": header.grp,
                    "size": len(raw),
                    "sha256": b64u_encode(digest),
                },
            )
    except Conflict:
        # A concurrent submission of the same id won the race: answer as for a resubmission.
        async with ctx.engine.connect() as conn:
            previous = await _existing(ctx, conn, header.mid, digest)
        if previous is None:  # pragma: no cover - the conflicting row must exist
            raise
        return previous
    ctx.metrics.inc("pgs_envelopes_accepted_total", kind=header.kind.value)
    ctx.notifier.notify(a.id for a in header.to)
    stored = dataclasses.replace(row, seq=seq)
    return _acceptance(ctx, stored, tuple(a.id for a in header.to), duplicate=False)
