"""Participants as the policy sees them (:class:`~hub.policy.groups.Member`), read from storage."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from crypto.keys import VerifyKey, verify_key_from_jwk
from crypto.strictjson import loads
from hub.errors import AuthenticationError, Forbidden
from hub.policy.groups import Member
from hub.storage import participants as store


def _member(row: store.ParticipantRow, keys: list[store.KeyRow]) -> Member:
    enc = next((k.kid for k in keys if k.use == "enc" and k.state == "current"), "")
    return Member(
        id=row.id,
        country=row.country,
        role=row.role,
        scope=row.scope,
        status=row.status,
        enc_kid=enc,
    )


async def member(conn: AsyncConnection, participant: str) -> Member | None:
    row = await store.get_participant(conn, participant)
    if row is None:
        return None
    return _member(row, await store.keys_of(conn, participant))


async def all_members(conn: AsyncConnection) -> list[Member]:
    keys = await store.current_keys(conn)
    by_participant: dict[str, list[store.KeyRow]] = {}
    for key in keys:
        by_participant.setdefault(key.participant_id, []).append(key)
    return [_member(p, by_participant.get(p.id, [])) for p in await store.list_participants(conn)]


async def signer(conn: AsyncConnection, kid: str) -> tuple[Member, VerifyKey]:
    """The participant whose *current* signing key is ``kid``; raises for anything else.

    A rotated-out or revoked key, a revoked participant: 401. A suspended participant: 403.
    """
    key = await store.key_by_kid(conn, kid)
    if key is None or key.use != "sig":
        raise AuthenticationError("no participant has this signing key", code="auth.unknown_key")
    if key.state != "current":
        raise AuthenticationError(
            "this signing key was replaced or revoked and is no longer accepted",
            code="auth.key_not_current",
        )
    found = await member(conn, key.participant_id)
    if found is None or found.status == "revoked":
        raise AuthenticationError("this participant is revoked", code="auth.revoked")
    if found.status == "suspended":
        raise Forbidden("this participant is suspended", code="participant.suspended")
    jwk = loads(key.jwk.encode(), what="stored key", max_bytes=4096)
    return found, verify_key_from_jwk(jwk)
