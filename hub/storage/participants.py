"""Participants and their keys (certificates are stored and served, never minted here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.errors import Conflict
from hub.storage.tables import KeyState, KeyUse, Role, Status, participant_keys, participants


@dataclass(frozen=True)
class ParticipantRow:
    id: str
    country: str
    role: Role
    scope: str | None
    status: Status
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class KeyRow:
    kid: str
    participant_id: str
    use: KeyUse
    jwk: str  # JSON text, as in the certificate
    certificate: str  # the certificate (JWS) that listed this key
    serial: str  # that certificate's serial
    state: KeyState
    created_at: int
    retired_at: int | None


async def insert_participant(conn: AsyncConnection, row: ParticipantRow) -> None:
    """Add a participant; raises :class:`Conflict` (``participant.exists``) if the id is taken.

    The caller's transaction stays usable after the conflict.
    """
    try:
        async with conn.begin_nested():
            await conn.execute(insert(participants).values(asdict(row)))
    except IntegrityError:
        if await get_participant(conn, row.id) is None:
            raise
        raise Conflict(
            f"participant {row.id} is already enrolled", code="participant.exists"
        ) from None


async def get_participant(conn: AsyncConnection, pid: str) -> ParticipantRow | None:
    result = await conn.execute(select(participants).where(participants.c.id == pid))
    found = result.one_or_none()
    return None if found is None else ParticipantRow(**found._mapping)


async def list_participants(conn: AsyncConnection) -> list[ParticipantRow]:
    """Every participant, by id."""
    result = await conn.execute(select(participants).order_by(participants.c.id))
    return [ParticipantRow(**found._mapping) for found in result]


async def set_status(conn: AsyncConnection, pid: str, status: Status, now: int) -> bool:
    """Set a participant's status; returns whether the participant exists."""
    result = await conn.execute(
        update(participants).where(participants.c.id == pid).values(status=status, updated_at=now)
    )
    return result.rowcount == 1


async def add_keys(conn: AsyncConnection, rows: Iterable[KeyRow]) -> None:
    """Store keys (usually the two of a new certificate, in state ``current``)."""
    values = [asdict(row) for row in rows]
    if values:
        await conn.execute(insert(participant_keys), values)


async def retire_current_keys(conn: AsyncConnection, pid: str, now: int) -> int:
    """Mark the participant's current keys ``retired`` (rotation); returns how many changed."""
    result = await conn.execute(
        update(participant_keys)
        .where(participant_keys.c.participant_id == pid, participant_keys.c.state == "current")
        .values(state="retired", retired_at=now)
    )
    return result.rowcount


async def revoke_keys(conn: AsyncConnection, pid: str, now: int) -> int:
    """Mark every key of the participant ``revoked``; returns how many changed."""
    result = await conn.execute(
        update(participant_keys)
        .where(participant_keys.c.participant_id == pid, participant_keys.c.state != "revoked")
        .values(state="revoked", retired_at=func.coalesce(participant_keys.c.retired_at, now))
    )
    return result.rowcount


async def key_by_kid(conn: AsyncConnection, kid: str) -> KeyRow | None:
    result = await conn.execute(select(participant_keys).where(participant_keys.c.kid == kid))
    found = result.one_or_none()
    return None if found is None else KeyRow(**found._mapping)


async def keys_of(conn: AsyncConnection, pid: str) -> list[KeyRow]:
    """Every key the participant has had, oldest first."""
    result = await conn.execute(
        select(participant_keys)
        .where(participant_keys.c.participant_id == pid)
        .order_by(participant_keys.c.created_at, participant_keys.c.kid)
    )
    return [KeyRow(**found._mapping) for found in result]


async def current_keys(conn: AsyncConnection) -> list[KeyRow]:
    """The current keys of all participants, by participant then use."""
    result = await conn.execute(
        select(participant_keys)
        .where(participant_keys.c.state == "current")
        .order_by(participant_keys.c.participant_id, participant_keys.c.use)
    )
    return [KeyRow(**found._mapping) for found in result]
