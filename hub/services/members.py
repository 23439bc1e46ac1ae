"""Participants as the policy sees them (:class:`~hub.policy.groups.Member`), read from storage.

The request paths (authentication, submission, receipts, groups) read them through the directory
cache instead (``hub/services/directory_cache.py``); this reads one participant directly.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.storage import participants as store


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
