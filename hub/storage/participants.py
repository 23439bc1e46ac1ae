"""Participants and their keys (certificates are stored and served, never minted here).

Every function here that writes a participant or a key first moves the directory version on
(:data:`~hub.storage.tables.directory_version`), in the caller's transaction: the change and the
new version commit together or not at all, and whatever caches the directory
(``hub/services/directory_cache.py``) sees the change on its next read of the version. Taking
the version row first also orders concurrent directory writers on PostgreSQL (one row lock),
so two of them never deadlock on each other's participant and key rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import Conflict, config_error
from pgs_hub.hub.storage.batch import Step
from pgs_hub.hub.storage.tables import (
    KeyState,
    KeyUse,
    Role,
    Status,
    console_sessions,
    directory_version,
    participant_keys,
    participants,
)

STAMP_BYTES = 16


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
    expires_at: int | None = None  # the certificate's exp, if it has one


@dataclass(frozen=True)
class DirectoryVersion:
    """Where the directory is: a cache read at this version is current while it reads the same."""

    number: int
    stamp: bytes


@dataclass(frozen=True)
class DirectoryKey:
    """What the directory cache keeps of a key (no certificate)."""

    kid: str
    participant_id: str
    use: KeyUse
    state: KeyState
    jwk: str
    expires_at: int | None = None  # the certificate's exp, if it has one


# Built once: every authenticated request and every submission runs it, and building a statement
# (and its cache key) costs more than the read itself.
_READ_DIRECTORY_VERSION: Final = select(
    directory_version.c.version, directory_version.c.stamp
).where(directory_version.c.id == 1)


def directory_version_step() -> Step:
    """The directory version's read as a step of a plan (:mod:`hub.storage.batch`)."""
    return Step(_READ_DIRECTORY_VERSION, returns=True)


def directory_version_of(rows: Sequence[Any]) -> DirectoryVersion:
    """The version read by :func:`directory_version_step` (its result ``rows``)."""
    if not rows:
        raise config_error("config.database.no_directory_version")
    version, stamp = rows[0]
    return DirectoryVersion(number=int(version), stamp=bytes(stamp))


async def read_directory_version(conn: AsyncConnection) -> DirectoryVersion:
    """The directory's version (one primary-key read)."""
    result = await conn.execute(_READ_DIRECTORY_VERSION)
    found = result.one_or_none()
    if found is None:
        raise config_error("config.database.no_directory_version")
    return DirectoryVersion(number=found.version, stamp=bytes(found.stamp))


async def _bump_directory_version(conn: AsyncConnection) -> None:
    result = await conn.execute(
        update(directory_version)
        .where(directory_version.c.id == 1)
        .values(version=directory_version.c.version + 1, stamp=secrets.token_bytes(STAMP_BYTES))
    )
    if result.rowcount != 1:
        raise config_error("config.database.no_directory_version")


async def load_directory(
    conn: AsyncConnection,
) -> tuple[list[ParticipantRow], list[DirectoryKey]]:
    """Every participant (by id) and every key (oldest first), read by ONE statement.

    One statement is one snapshot, on PostgreSQL's READ COMMITTED too: the participants and keys
    always agree with each other.
    """
    result = await conn.execute(
        select(
            participants,
            participant_keys.c.kid,
            participant_keys.c.use,
            participant_keys.c.state,
            participant_keys.c.jwk,
            participant_keys.c.expires_at,
        )
        .select_from(
            participants.outerjoin(
                participant_keys, participant_keys.c.participant_id == participants.c.id
            )
        )
        .order_by(participants.c.id, participant_keys.c.created_at, participant_keys.c.kid)
    )
    people: dict[str, ParticipantRow] = {}
    keys: list[DirectoryKey] = []
    for found in result:
        if found.id not in people:
            people[found.id] = ParticipantRow(
                id=found.id,
                country=found.country,
                role=found.role,
                scope=found.scope,
                status=found.status,
                created_at=found.created_at,
                updated_at=found.updated_at,
            )
        if found.kid is not None:
            keys.append(
                DirectoryKey(
                    kid=found.kid,
                    participant_id=found.id,
                    use=found.use,
                    state=found.state,
                    jwk=found.jwk,
                    expires_at=found.expires_at,
                )
            )
    return list(people.values()), keys


async def insert_participant(conn: AsyncConnection, row: ParticipantRow) -> None:
    """Add a participant; raises :class:`Conflict` (``participant.exists``) if the id is taken.

    The caller's transaction stays usable after the conflict.
    """
    await _bump_directory_version(conn)
    try:
        async with conn.begin_nested():
            await conn.execute(insert(participants).values(asdict(row)))
    except IntegrityError:
        if await get_participant(conn, row.id) is None:
            raise
        raise Conflict(
            f"participant {row.id} is already enrolled", code=Code.PARTICIPANT_EXISTS
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
    await _bump_directory_version(conn)
    result = await conn.execute(
        update(participants).where(participants.c.id == pid).values(status=status, updated_at=now)
    )
    return result.rowcount == 1


async def add_keys(conn: AsyncConnection, rows: Iterable[KeyRow]) -> None:
    """Store keys (usually the two of a new certificate, in state ``current``)."""
    values = [asdict(row) for row in rows]
    if values:
        await _bump_directory_version(conn)
        await conn.execute(insert(participant_keys), values)


async def retire_current_keys(conn: AsyncConnection, pid: str, now: int) -> int:
    """Mark the participant's current keys ``retired`` (rotation); returns how many changed."""
    await _bump_directory_version(conn)
    result = await conn.execute(
        update(participant_keys)
        .where(participant_keys.c.participant_id == pid, participant_keys.c.state == "current")
        .values(state="retired", retired_at=now)
    )
    return result.rowcount


async def revoke_keys(conn: AsyncConnection, pid: str, now: int) -> int:
    """Mark every key of the participant ``revoked``; returns how many changed."""
    await _bump_directory_version(conn)
    result = await conn.execute(
        update(participant_keys)
        .where(participant_keys.c.participant_id == pid, participant_keys.c.state != "revoked")
        .values(state="revoked", retired_at=func.coalesce(participant_keys.c.retired_at, now))
    )
    return result.rowcount


async def close_console_sessions(conn: AsyncConnection, pid: str) -> int:
    """End every console session of the participant (suspension, revocation); how many."""
    result = await conn.execute(
        delete(console_sessions).where(console_sessions.c.participant_id == pid)
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
