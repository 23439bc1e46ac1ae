"""Request-signature nonces, remembered for the signature window so replays fail after restarts."""

from __future__ import annotations

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.tables import nonces


async def remember_nonce(
    conn: AsyncConnection, keyid: str, nonce: str, expires_at: int, *, now: int | None = None
) -> bool:
    """Record ``(keyid, nonce)`` until ``expires_at``; returns False if it is already recorded.

    A recorded nonce counts as seen until it is purged, or, when ``now`` is given, until its
    ``expires_at`` has passed (then it is recorded afresh and True is returned). The insert runs
    in a SAVEPOINT, so the caller's transaction stays usable after a replay.
    """
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(nonces).values(keyid=keyid, nonce=nonce, expires_at=expires_at)
            )
    except IntegrityError:
        if now is None:
            return False
        result = await conn.execute(
            update(nonces)
            .where(nonces.c.keyid == keyid, nonces.c.nonce == nonce, nonces.c.expires_at <= now)
            .values(expires_at=expires_at)
        )
        return result.rowcount == 1
    return True


async def purge_expired(conn: AsyncConnection, now: int) -> int:
    """Forget nonces whose window has passed; returns how many."""
    result = await conn.execute(delete(nonces).where(nonces.c.expires_at <= now))
    return result.rowcount
