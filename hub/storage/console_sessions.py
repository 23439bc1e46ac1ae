"""Console sign-in links and sessions (tables ``console_login_links``, ``console_sessions``):
only SHA-256 hashes of the secrets are stored. The secrets themselves, the cookie and the CSRF
token belong to the console (:mod:`hub.console.session`); the rules (who may sign in) to the
service (:mod:`hub.services.console_sessions`).

A link is consumed by one UPDATE that only succeeds while it is unused and unexpired, so several
workers cannot both accept it. Every function takes ``now``: expiry is testable without sleeping.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.hub.storage.tables import console_login_links, console_sessions

LINK_SECONDS = 120
SESSION_SECONDS = 8 * 3600
TOKEN_BYTES = 32


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii", "replace")).digest()


def plausible(secret: str) -> bool:
    """Whether ``secret`` looks like one of our tokens (base64url, 43 characters): anything else
    is refused without a database query."""
    return len(secret) == 43 and all(c.isalnum() or c in "-_" for c in secret)


@dataclass(frozen=True)
class Session:
    id: str  # the cookie value: secret, never stored
    participant: str
    expires_at: int


async def create_link(conn: AsyncConnection, participant: str, now: int) -> str:
    """A new one-time login token for ``participant`` (returned once, stored as a hash)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await conn.execute(
        insert(console_login_links).values(
            token_hash=digest(token),
            participant_id=participant,
            created_at=now,
            expires_at=now + LINK_SECONDS,
            used_at=None,
        )
    )
    await conn.execute(
        delete(console_login_links).where(console_login_links.c.expires_at < now - LINK_SECONDS)
    )
    return token


async def peek_link(conn: AsyncConnection, token: str, now: int) -> str | None:
    """The participant of an unused, unexpired link, leaving it unused; ``None`` otherwise."""
    if not plausible(token):
        return None
    found = await conn.scalar(
        select(console_login_links.c.participant_id).where(
            console_login_links.c.token_hash == digest(token),
            console_login_links.c.used_at.is_(None),
            console_login_links.c.expires_at > now,
        )
    )
    return str(found) if found is not None else None


async def consume_link(conn: AsyncConnection, token: str, now: int) -> str | None:
    """The participant of an unused, unexpired link, marking it used; ``None`` otherwise."""
    if not plausible(token):
        return None
    hashed = digest(token)
    result = await conn.execute(
        update(console_login_links)
        .where(
            console_login_links.c.token_hash == hashed,
            console_login_links.c.used_at.is_(None),
            console_login_links.c.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:
        return None
    found = await conn.scalar(
        select(console_login_links.c.participant_id).where(
            console_login_links.c.token_hash == hashed
        )
    )
    return str(found) if found is not None else None


async def open_session(conn: AsyncConnection, participant: str, now: int) -> Session:
    session_id = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + SESSION_SECONDS
    await conn.execute(
        insert(console_sessions).values(
            id_hash=digest(session_id), participant_id=participant, created_at=now,
            expires_at=expires,
        )
    )  # fmt: skip
    await conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
    return Session(session_id, participant, expires)


async def find_session(conn: AsyncConnection, session_id: str, now: int) -> Session | None:
    if not plausible(session_id):
        return None
    row = (
        await conn.execute(
            select(console_sessions.c.participant_id, console_sessions.c.expires_at).where(
                console_sessions.c.id_hash == digest(session_id),
                console_sessions.c.expires_at > now,
            )
        )
    ).first()
    if row is None:
        return None
    return Session(session_id, str(row.participant_id), int(row.expires_at))


async def close_session(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(
        delete(console_sessions).where(console_sessions.c.id_hash == digest(session_id))
    )
