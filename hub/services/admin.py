"""Enrolment, rotation, suspension and revocation. Certificates are minted by the registry
authority outside the hub; the hub only accepts those that verify under the pinned key."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import RecipientKey, VerifyKey
from pgs_hub.crypto.strictjson import loads
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Conflict, InvalidRequest, MalformedRequest, NotFound
from pgs_hub.hub.policy.authorize import Action
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import audit
from pgs_hub.hub.storage import participants as store
from pgs_hub.hub.storage.tables import KeyUse, Status
from pgs_hub.protocols import api
from pgs_hub.protocols.certificates import VerifiedCertificate, verify_certificate

StatusAction = Literal["suspend", "reinstate", "revoke"]


def _key_rows(verified: VerifiedCertificate, now: int) -> list[store.KeyRow]:
    cert = verified.certificate
    raw = verified.raw.decode("utf-8")
    uses: tuple[tuple[KeyUse, VerifyKey | RecipientKey], ...] = (
        ("sig", verified.verify_key),
        ("enc", verified.recipient_key),
    )
    return [
        store.KeyRow(
            kid=key.kid,
            participant_id=cert.sub,
            use=use,
            jwk=json.dumps(key.to_jwk(), sort_keys=True),
            certificate=raw,
            serial=cert.serial,
            state="current",
            created_at=now,
            retired_at=None,
            expires_at=cert.exp,
        )
        for use, key in uses
    ]


async def _audit(
    conn: AsyncConnection, ctx: HubContext, actor: Member, event: str, subject: str, **details: Any
) -> None:
    await audit.append_record(
        conn,
        at=ctx.now(),
        event=event,
        actor=actor.id,
        subject=subject,
        country=details.pop("country", None),
        details=details,
    )


def _not_expired(verified: VerifiedCertificate, now: int) -> None:
    if verified.certificate.expired(now):
        raise InvalidRequest(
            "the certificate has expired: ask the registry authority for a new one",
            code=Code.CERTIFICATE_EXPIRED,
        )


async def enrol(ctx: HubContext, actor: Member, raw: bytes) -> api.Enrolment:
    await authorize(ctx, actor, Action.ADMIN, subject="enrol")
    verified = verify_certificate(raw, ctx.authority)
    cert = verified.certificate
    now = ctx.now()
    _not_expired(verified, now)
    async with ctx.engine.begin() as conn:
        if await store.key_by_kid(conn, verified.verify_key.kid) or await store.key_by_kid(
            conn, verified.recipient_key.kid
        ):
            raise Conflict("these keys are already enrolled", code=Code.KEY_EXISTS)
        await store.insert_participant(
            conn,
            store.ParticipantRow(
                id=cert.sub,
                country=cert.country,
                role=cert.role.value,
                scope=cert.scope,
                status="active",
                created_at=now,
                updated_at=now,
            ),
        )
        await store.add_keys(conn, _key_rows(verified, now))
        await _audit(
            conn, ctx, actor, "participant.enrolled", cert.sub,
            country=cert.country, role=cert.role.value, serial=cert.serial,
            sig_kid=verified.verify_key.kid, enc_kid=verified.recipient_key.kid,
            certificate_sha256=b64u_encode(hashlib.sha256(raw).digest()),
        )  # fmt: skip
    return api.Enrolment(id=cert.sub, serial=cert.serial)


async def rotate(ctx: HubContext, actor: Member, participant: str, raw: bytes) -> api.Enrolment:
    await authorize(ctx, actor, Action.ADMIN, subject=participant)
    verified = verify_certificate(raw, ctx.authority)
    cert = verified.certificate
    if cert.sub != participant:
        raise InvalidRequest(
            "the certificate is for another participant", code=Code.CERTIFICATE_SUBJECT
        )
    now = ctx.now()
    _not_expired(verified, now)
    async with ctx.engine.begin() as conn:
        row = await store.get_participant(conn, participant)
        if row is None:
            raise NotFound("no such participant", code=Code.PARTICIPANT_NOT_FOUND)
        if row.status == "revoked":
            raise Conflict(
                "a revoked participant cannot get new keys", code=Code.PARTICIPANT_REVOKED
            )
        if (cert.country, cert.role.value, cert.scope) != (row.country, row.role, row.scope):
            raise InvalidRequest(
                "rotation keeps country, role and scope; enrol a new participant instead",
                code=Code.CERTIFICATE_CHANGES_IDENTITY,
            )
        if await store.key_by_kid(conn, verified.verify_key.kid) or await store.key_by_kid(
            conn, verified.recipient_key.kid
        ):
            raise Conflict("these keys are already enrolled", code=Code.KEY_EXISTS)
        await store.retire_current_keys(conn, participant, now)
        await store.add_keys(conn, _key_rows(verified, now))
        await _audit(
            conn, ctx, actor, "keys.rotated", participant, country=row.country,
            serial=cert.serial, sig_kid=verified.verify_key.kid, enc_kid=verified.recipient_key.kid,
            certificate_sha256=b64u_encode(hashlib.sha256(raw).digest()),
        )  # fmt: skip
    return api.Enrolment(id=participant, serial=cert.serial)


_NEXT: dict[str, Status] = {
    "suspend": "suspended",
    "reinstate": "active",
    "revoke": "revoked",
}


async def change_status(
    ctx: HubContext, actor: Member, participant: str, raw: bytes
) -> api.ParticipantStatus:
    """``POST /v1/admin/participants/{id}/status``: the admin's ``{"action": ...}`` body."""
    await authorize(ctx, actor, Action.ADMIN, subject=participant)
    try:
        doc = loads(raw, what="request body", max_bytes=1024)
    except CryptoError as exc:
        raise MalformedRequest(str(exc)) from None
    try:
        change = api.StatusChange.model_validate(doc)
    except ValidationError:
        raise InvalidRequest(
            'the body must be {"action": "suspend" | "reinstate" | "revoke"}'
        ) from None
    return await set_status(ctx, actor, participant, change.action)


async def set_status(
    ctx: HubContext, actor: Member, participant: str, action: StatusAction
) -> api.ParticipantStatus:
    """Suspend, reinstate or revoke ``participant``. Takes effect everywhere at once: every
    request asks the policy with the participant's current status, and the participant's open
    streams, in every hub process, are woken to ask it again (and close)."""
    await authorize(ctx, actor, Action.ADMIN, subject=participant)
    now = ctx.now()
    async with ctx.engine.begin() as conn:
        row = await store.get_participant(conn, participant)
        if row is None:
            raise NotFound("no such participant", code=Code.PARTICIPANT_NOT_FOUND)
        if row.status == "revoked":
            raise Conflict("revocation is final", code=Code.PARTICIPANT_REVOKED)
        await store.set_status(conn, participant, _NEXT[action], now)
        if action == "revoke":
            await store.revoke_keys(conn, participant, now)
        if action != "reinstate":
            await store.close_console_sessions(conn, participant)
        await _audit(
            conn, ctx, actor, f"participant.{_NEXT[action]}", participant, country=row.country
        )
    ctx.notifier.notify([participant])  # its streams, here and in the other hub processes
    return api.ParticipantStatus(id=participant, status=_NEXT[action])


async def records(ctx: HubContext, reader: Member, after: int, limit: int) -> api.AuditRecords:
    """Audit metadata: a country-scoped auditor's country only, everything for a global one."""
    scope = (await authorize(ctx, reader, Action.AUDIT)).country
    async with ctx.reader.connect() as conn:
        rows = await audit.records(
            conn,
            after=after,
            limit=max(1, min(limit, ctx.settings.records_page_max)),
            country=scope,
        )
    items = [
        api.AuditRecord(
            seq=r.seq,
            at=r.at,
            event=r.event,
            actor=r.actor,
            subject=r.subject,
            country=r.country,
            details=json.loads(r.details),
        )
        for r in rows
    ]
    return api.AuditRecords(records=items, next=items[-1].seq if items else after)
