"""Console sign-in and sessions as services: every step asks the policy (through
:func:`hub.services.console.sign_in`, the ``console.sign_in`` decision) and owns its short
transaction, so the console itself holds no SQL.

* :func:`new_link`: a one-time link for a participant the policy lets in (``pgs console``).
* :func:`link_owner`: whom an unused link signs in as (the confirmation page; nothing consumed).
* :func:`sign_in_with_link`: consume the link, end the browser's previous session, open one.
* :func:`signed_in`: the session of a cookie and its viewer; a session whose participant the
  policy no longer lets in (suspended, revoked, its country suspended) ends there and then.
* :func:`sign_out`.
"""

from __future__ import annotations

from pgs_hub.hub.errors import Forbidden
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.console import Viewer, sign_in
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.services.members import member as load_member
from pgs_hub.hub.storage import console_sessions as store
from pgs_hub.hub.storage.console_sessions import (
    LINK_SECONDS,
    SESSION_SECONDS,
    TOKEN_BYTES,
    Session,
    plausible,
)

__all__ = [
    "LINK_SECONDS",
    "SESSION_SECONDS",
    "TOKEN_BYTES",
    "Session",
    "link_owner",
    "new_link",
    "plausible",
    "sign_in_with_link",
    "sign_out",
    "signed_in",
]


async def new_link(ctx: HubContext, member: Member) -> str:
    """A new one-time link token for ``member``; raises the policy's refusal."""
    await sign_in(ctx, member)
    async with ctx.engine.begin() as conn:
        return await store.create_link(conn, member.id, ctx.now())


async def link_owner(ctx: HubContext, token: str) -> Member | None:
    """The participant an unused, unexpired link signs in as, if the policy lets it in."""
    async with ctx.reader.connect() as conn:
        participant = await store.peek_link(conn, token, ctx.now())
        member = await load_member(conn, participant) if participant else None
    if member is None:
        return None
    try:
        await sign_in(ctx, member)
    except Forbidden:
        return None
    return member


async def sign_in_with_link(ctx: HubContext, token: str, previous: str | None) -> Session | None:
    """Consume the link (used up either way) and, if the policy lets its participant in, end the
    ``previous`` session and open a new one."""
    now = ctx.now()
    async with ctx.engine.begin() as conn:
        participant = await store.consume_link(conn, token, now)
        member = await load_member(conn, participant) if participant else None
    if member is None:
        return None
    try:
        await sign_in(ctx, member)
    except Forbidden:
        return None
    async with ctx.engine.begin() as conn:
        if previous:
            await store.close_session(conn, previous)
        return await store.open_session(conn, member.id, now)


async def signed_in(ctx: HubContext, session_id: str) -> tuple[Session, Viewer] | None:
    """The live session ``session_id`` and what its participant may see, or None."""
    async with ctx.reader.connect() as conn:
        found = await store.find_session(conn, session_id, ctx.now())
        member = await load_member(conn, found.participant) if found else None
    if found is None or member is None:
        return None
    try:
        return found, await sign_in(ctx, member)
    except Forbidden:
        await sign_out(ctx, found.id)  # refused since it signed in: the session ends
        return None


async def sign_out(ctx: HubContext, session_id: str) -> None:
    async with ctx.engine.begin() as conn:
        await store.close_session(conn, session_id)
