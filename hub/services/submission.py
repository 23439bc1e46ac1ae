"""Accepting an envelope: authenticate it by its own signature, apply the policy, store it durably
with its deliveries, mailbox entries and audit record in one transaction, then wake recipients.

Only after the transaction commits is anything acknowledged. The transaction is shared with the
other envelopes submitted meanwhile (group commit, :mod:`hub.services.writers`): one commit, one
fsync, for a whole burst. A resubmission of the same bytes gets the original acceptance back
(idempotent by message id); the same id with other bytes is a 409.

The signature is verified on the event loop, not in a thread, on measurement. pyca/cryptography
50.0 does release the GIL inside an Ed25519 verification (two threads verifying 6 kB messages
finish in 0.59 s what one does in 1.13 s), but the verifying thread must take the GIL back to
return, from a loop thread that holds it while it works on other requests: up to the switch
interval (5 ms) each time. ``bench/verify_threads.py``: on a uvloop loop of 64 tasks that each do
0.5 ms of Python and one verification, a 2-thread pool completed fewer of them (1,278-1,560/s
against 1,750-2,495/s inline, three runs, one with a 0.5 ms switch interval) and cost the loop
thread more CPU per task (0.56-0.69 against 0.40-0.57 ms): the hand-offs cost more than the
verification. Earlier: 2,000 concurrent ``verify_message`` calls ran at
~2,400-2,950/s inline against ~1,900-2,300/s with ``asyncio.to_thread`` and ~1,200/s on a
2-thread pool, and 2,000 submissions to ``pgs serve`` (SQLite, 64 connections) were no faster
with ``to_thread`` (192-317/s) than inline (188-324/s).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto import jws
from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.envelope import envelope_digest
from pgs_hub.crypto.strictjson import dumps
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Conflict, Forbidden, HubError, RateLimited, TooLarge
from pgs_hub.hub.policy.authorize import Action, Submission
from pgs_hub.hub.policy.decisions import check_can_send
from pgs_hub.hub.policy.groups import Member, members
from pgs_hub.hub.services import attachments
from pgs_hub.hub.services.access import decide
from pgs_hub.hub.services.audit import record_denial
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.services.directory_cache import DirectorySnapshot
from pgs_hub.hub.services.writers import AcceptedEnvelope, StaleDirectory
from pgs_hub.hub.storage import audit, envelopes
from pgs_hub.hub.storage.participants import DirectoryVersion
from pgs_hub.protocols import api
from pgs_hub.protocols.envelope import read_header, verify_parsed
from pgs_hub.protocols.routing import RoutingHeader

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

    def to_api(self) -> api.Acceptance:
        return api.Acceptance(
            mid=self.mid,
            envelope_sha256=self.envelope_sha256,
            accepted_at=self.accepted_at,
            recipients=list(self.recipients),
            acceptance=self.signed.decode("ascii"),
        )


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
    ctx: HubContext, conn: AsyncConnection, sender: Member, header: RoutingHeader, digest: bytes
) -> Acceptance | None:
    row = await envelopes.envelope_by_mid(conn, header.mid)
    if row is None:
        return None
    # Whose id it is, is the policy's to decide: another participant's message id is refused like
    # an impersonation (403 sender.impersonation), never answered 409, which would say it exists.
    resource = Submission(header.sender.id, header.kind, stored_sender=row.sender_id)
    decide(ctx, sender, Action.SUBMIT, resource)
    if not hmac.compare_digest(row.sha256, digest):
        raise Conflict(
            "a different envelope with this message id was already accepted",
            code=Code.ENVELOPE_ID_CONFLICT,
        )
    recipients = tuple(d.recipient_id for d in await envelopes.deliveries_of(conn, row.seq or 0))
    return _acceptance(ctx, row, recipients, duplicate=True)


def _recipients(
    ctx: HubContext, everyone: Mapping[str, Member], header: RoutingHeader
) -> tuple[list[Member | None], tuple[Member, ...] | None]:
    recipients = [everyone.get(a.id) for a in header.to]
    group = (
        members(ctx.policy.current, header.grp, everyone.values())
        if header.grp is not None
        else None
    )
    return recipients, group


async def _resubmission(
    ctx: HubContext, sender: Member, header: RoutingHeader, digest: bytes
) -> Acceptance | None:
    """The original acceptance if this message id is stored by this sender; 409 if with other
    bytes; 403 ``sender.impersonation`` (recorded as a denial) if the id is another's or the
    header names another sender."""
    try:
        async with ctx.reader.connect() as conn:
            return await _existing(ctx, conn, sender, header, digest)
    except Forbidden as exc:
        await record_denial(
            ctx, actor=sender, action="envelope.submit", reason=exc.code, subject=header.mid
        )
        raise


async def _current_directory(ctx: HubContext) -> DirectorySnapshot:
    async with ctx.reader.connect() as conn:
        return await ctx.directory.snapshot(conn)


async def submit(ctx: HubContext, raw: bytes) -> Acceptance:
    """Validate, authorize and durably store ``raw``; raises a hub, crypto or protocol error.

    The envelope is stored by the group-committed :attr:`HubContext.envelope_writer`: this returns
    once the transaction holding it (and other requests' envelopes) has committed. A resubmission
    is not looked up beforehand: the writer reports the stored message id as a Conflict, and the
    original is then read and answered (or a denial checked against it, so that a resubmission
    the policy would refuse now, past its ``exp`` say, still gets its original acceptance).

    The directory (signer, recipients, groups) is checked where it costs nothing: the decision is
    made on the copy the cache holds, and the writer stores the envelope only if the directory is
    still at that copy's version in the transaction that stores it (one version read per batch,
    not one per submission). Otherwise, and whenever the decision on that copy fails, it is made
    again on the current directory, read as usual; refusals are only ever given (and audited) on
    the current directory.
    """
    limits = ctx.policy.current.limits
    if len(raw) > limits.max_envelope_bytes:
        raise TooLarge(f"the envelope is larger than {limits.max_envelope_bytes} bytes")
    unverified, header = read_header(raw)
    digest = envelope_digest(raw)
    now = ctx.now()
    directory = ctx.directory.held
    recheck = directory is not None  # a copy that may be out of date: checked again when stored
    if directory is None:
        directory = await _current_directory(ctx)
    while True:
        authenticated = False
        try:
            sender, key = directory.signer(unverified.signer_kid, now)
            verify_parsed(unverified, header, key)  # one Ed25519 verification authenticates all
            recipients, group = _recipients(ctx, directory.members, header)
            authenticated = True
            decide(ctx, sender, Action.SUBMIT, Submission(header.sender.id, header.kind))
            check_can_send(ctx.policy.current, sender, header, recipients, group, now)
        except Exception as exc:
            if recheck:
                directory, recheck = await _current_directory(ctx), False
                continue
            if not (authenticated and isinstance(exc, HubError)):
                raise
            # Refused by the policy: a resubmission still gets its original acceptance.
            previous = await _resubmission(ctx, sender, header, digest)
            if previous is not None:
                return previous
            await record_denial(
                ctx, actor=sender, action="envelope.submit", reason=exc.code, subject=header.mid
            )
            raise
        await attachments.check_references(ctx, sender, header)
        try:
            return await _store(
                ctx, raw, header, digest=digest, now=now, sender=sender, recipients=recipients,
                version=directory.version if recheck else None,
            )  # fmt: skip
        except StaleDirectory:
            directory, recheck = await _current_directory(ctx), False


async def _store(
    ctx: HubContext,
    raw: bytes,
    header: RoutingHeader,
    *,
    digest: bytes,
    now: int,
    sender: Member,
    recipients: list[Member | None],
    version: DirectoryVersion | None,
) -> Acceptance:
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
    record = audit.NewRecord(
        at=now,
        event="envelope.accepted",
        actor=sender.id,
        subject=header.mid,
        country=sender.country,
        countries=tuple(m.country for m in recipients if m is not None),
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
    pairs = tuple((a.id, a.kid) for a in header.to)
    item = AcceptedEnvelope(
        row, pairs, record, version, ctx.submissions_per_minute, uploads=header.att or ()
    )
    try:
        # The stored row's seq is not needed: the acceptance names the envelope by id and digest.
        await ctx.envelope_writer.submit(item)
    except RateLimited as exc:  # counted across every hub process (hub.services.writers)
        await record_denial(ctx, actor=sender, action="envelope.submit", reason=exc.code)
        raise
    except Conflict as exc:
        if exc.code == "attachment.upload_taken":
            raise
        # Stored already (a resubmission, or a concurrent one won): answer as for a resubmission.
        previous = await _resubmission(ctx, sender, header, digest)
        if previous is None:  # pragma: no cover - the conflicting row must exist
            raise
        return previous
    ctx.metrics.inc("pgs_envelopes_accepted_total", kind=header.kind.value)
    ctx.notifier.notify(a.id for a in header.to)
    if ctx.notifications is not None:
        ctx.notifications.message_waiting(
            (a.id for a in header.to), sender_country=sender.country, kind=header.kind.value,
            now=now,
        )  # fmt: skip
    return _acceptance(ctx, row, tuple(a.id for a in header.to), duplicate=False)
