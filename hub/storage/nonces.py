"""Request-signature nonces, remembered for the signature window so replays fail after restarts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage.tables import nonces


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


@dataclass(frozen=True)
class NonceClaim:
    """One :func:`remember_nonce` call, for :func:`remember_nonces`."""

    keyid: str
    nonce: str
    expires_at: int
    now: int | None = None


async def remember_nonces(conn: AsyncConnection, claims: Sequence[NonceClaim]) -> list[bool]:
    """:func:`remember_nonce` for each claim, in order, with one INSERT when none is a replay.

    A nonce claimed twice in ``claims`` is a replay the second time (False). When one is already
    recorded, the batch insert is rolled back to its SAVEPOINT and the claims are taken one by one
    (:func:`remember_nonce`, with its ``now`` semantics), so only the replays are refused.
    """
    results = [False] * len(claims)
    first: dict[tuple[str, str], int] = {}
    for n, claim in enumerate(claims):
        first.setdefault((claim.keyid, claim.nonce), n)
    fresh = sorted(first.values())
    if not fresh:
        return results
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(nonces),
                [
                    {
                        "keyid": claims[n].keyid,
                        "nonce": claims[n].nonce,
                        "expires_at": claims[n].expires_at,
                    }
                    for n in fresh
                ],
            )
    except IntegrityError:
        for n in fresh:
            claim = claims[n]
            results[n] = await remember_nonce(
                conn, claim.keyid, claim.nonce, claim.expires_at, now=claim.now
            )
        return results
    for n in fresh:
        results[n] = True
    return results


async def purge_expired(conn: AsyncConnection, now: int) -> int:
    """Forget nonces whose window has passed; returns how many."""
    result = await conn.execute(delete(nonces).where(nonces.c.expires_at <= now))
    return result.rowcount
