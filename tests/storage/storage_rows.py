"""Row factories for the storage tests: participants with keys, and envelopes between them."""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage import participants as store
from pgs_hub.hub.storage.envelopes import EnvelopeRow
from pgs_hub.hub.storage.tables import KeyUse, Role

NOW = 1_800_000_000


def participant(pid: str, country: str = "FR", role: Role = "ncp") -> store.ParticipantRow:
    return store.ParticipantRow(
        id=pid,
        country=country,
        role=role,
        scope=None,
        status="active",
        created_at=NOW,
        updated_at=NOW,
    )


def key(pid: str, use: KeyUse, *, n: int = 1, created_at: int = NOW) -> store.KeyRow:
    return store.KeyRow(
        kid=f"{pid}-{use}-{n}",
        participant_id=pid,
        use=use,
        jwk=f'{{"kty":"OKP","kid":"{pid}-{use}-{n}"}}',
        certificate=f"certificate-of-{pid}-{n}",
        serial=f"serial-{pid}-{n}",
        state="current",
        created_at=created_at,
        retired_at=None,
    )


def envelope(mid: str, sender: str = "fr-1", *, exp: int = NOW + 3600) -> EnvelopeRow:
    raw = b'{"envelope":"' + mid.encode() + b'"}'
    return EnvelopeRow(
        seq=None,
        mid=mid,
        sender_id=sender,
        sender_kid=f"{sender}-sig-1",
        kind="alert",
        tlp="AMBER",
        grp=None,
        iat=NOW,
        exp=exp,
        size=len(raw),
        sha256=hashlib.sha256(raw).digest(),
        raw=raw,
        accepted_at=NOW + 1,
        thread=None,
        irt=None,
    )


def to(*pids: str) -> list[tuple[str, str]]:
    """Recipients as (participant id, current encryption kid) pairs."""
    return [(pid, f"{pid}-enc-1") for pid in pids]


async def enrol(conn: AsyncConnection, pid: str, country: str = "FR") -> None:
    await store.insert_participant(conn, participant(pid, country))
    await store.add_keys(conn, [key(pid, "sig"), key(pid, "enc")])
