"""Request-signature nonces, remembered for the signature window so replays fail after restarts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage import batch
from pgs_hub.hub.storage.batch import Plan, Step, Steps
from pgs_hub.hub.storage.tables import nonces


async def remember_nonce(
    conn: AsyncConnection, keyid: str, nonce: str, expires_at: int, *, now: int | None = None
) -> bool:
    """Record ``(keyid, nonce)`` until ``expires_at``; returns False if it is already recorded.

    A recorded nonce counts as seen until it is purged, or, when ``now`` is given, until its
    ``expires_at`` has passed (then it is recorded afresh and True is returned). The insert runs
    in a SAVEPOINT, so the caller's transaction stays usable after a replay.
    """
    (result,) = await remember_nonces(conn, [NonceClaim(keyid, nonce, expires_at, now)])
    return result


@dataclass(frozen=True)
class NonceClaim:
    """One :func:`remember_nonce` call, for :func:`remember_nonces`."""

    keyid: str
    nonce: str
    expires_at: int
    now: int | None = None


# The statements of :func:`remember_plan`, built once: the plan's runner caches their compiled form.
_INSERT: Final = insert(nonces)
_RENEW: Final = (
    update(nonces)
    .where(
        nonces.c.keyid == bindparam("claimed_keyid"),
        nonces.c.nonce == bindparam("claimed_nonce"),
        nonces.c.expires_at <= bindparam("claimed_now"),
    )
    .values(expires_at=bindparam("claimed_until"))
)


def _row(claim: NonceClaim) -> dict[str, Any]:
    return {"keyid": claim.keyid, "nonce": claim.nonce, "expires_at": claim.expires_at}


def remember_plan(claims: Sequence[NonceClaim]) -> Plan[list[bool]]:
    """:func:`remember_nonce` for each claim, in order, with one INSERT when none is a replay, as
    a plan (:mod:`hub.storage.batch`): the nonces' group commit runs it in a transaction of its own
    (on SQLite on the event loop, its COMMIT in the driver's thread).

    A nonce claimed twice in ``claims`` is a replay the second time (False). When one is already
    recorded, the batch insert is rolled back to its SAVEPOINT and the claims are taken one by one,
    each in a SAVEPOINT of its own, with :func:`remember_nonce`'s ``now`` semantics (an expired
    record is renewed), so only the replays are refused.
    """
    results = [False] * len(claims)
    first: dict[tuple[str, str], int] = {}
    for n, claim in enumerate(claims):
        first.setdefault((claim.keyid, claim.nonce), n)
    fresh = sorted(first.values())
    if not fresh:
        return results
    refused = yield Steps([Step(_INSERT, rows=[_row(claims[n]) for n in fresh])], savepoint=True)
    if not isinstance(refused, Exception):
        for n in fresh:
            results[n] = True
        return results
    for n in fresh:
        claim = claims[n]
        refused = yield Steps([Step(_INSERT, rows=[_row(claim)])], savepoint=True)
        if not isinstance(refused, Exception):
            results[n] = True
        elif claim.now is not None:
            renewed = yield Steps(
                [
                    Step(
                        _RENEW,
                        rows=[
                            {
                                "claimed_keyid": claim.keyid,
                                "claimed_nonce": claim.nonce,
                                "claimed_now": claim.now,
                                "claimed_until": claim.expires_at,
                            }
                        ],
                    )
                ]
            )
            results[n] = renewed == [1]  # its rowcount; outside a SAVEPOINT an error is raised
    return results


async def remember_nonces(conn: AsyncConnection, claims: Sequence[NonceClaim]) -> list[bool]:
    """:func:`remember_plan` in ``conn``'s transaction (begun already)."""
    return await batch.run(conn, remember_plan(claims))


async def purge_expired(conn: AsyncConnection, now: int) -> int:
    """Forget nonces whose window has passed; returns how many."""
    result = await conn.execute(delete(nonces).where(nonces.c.expires_at <= now))
    return result.rowcount
