"""Who is asking: RFC 9421 signature → current signing key → active participant, plus the nonce
replay check (durable, so a replay fails after a restart too) and the per-participant rate limit."""

from __future__ import annotations

from aiohttp import web

from pgs_hub.hub.auth.httpsig import VerifiedSignature, claimed_keyid, verify_request
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.server.keys import AUTHENTICATED, CTX
from pgs_hub.hub.server.observe import note_participant
from pgs_hub.hub.server.proxy import external_origin
from pgs_hub.hub.services.replay import claim_nonce

# The participant a request was authenticated as (set by :func:`authenticate`).


def request_url(request: web.Request) -> str:
    """The URL the client signed: the public origin (``public_url``, else the scheme and Host,
    from a trusted proxy's forwarded headers if any) and the path with query, as received."""
    return f"{external_origin(request)}{request.raw_path}"


async def authenticate(request: web.Request, body: bytes | bytearray | None) -> Member:
    ctx = request.app[CTX]
    keyid = claimed_keyid(request.headers)
    async with ctx.reader.connect() as conn:
        member, key = await ctx.directory.signer(conn, keyid, ctx.now())

    def resolve(kid: str) -> object:
        if kid != keyid:  # pragma: no cover - claimed_keyid reads the same header
            raise AuthenticationError("unknown key", code=Code.AUTH_UNKNOWN_KEY)
        return key

    now = ctx.now()
    verified: VerifiedSignature = verify_request(
        method=request.method,
        url=request_url(request),
        headers=request.headers,
        body=body,
        resolve_key=resolve,  # type: ignore[arg-type]
        now=now,
    )
    await claim_nonce(ctx, verified.keyid, verified.nonce, now)
    request[AUTHENTICATED] = member  # whose refusal it is, if one follows (security events)
    note_participant(request, member.id)
    ctx.rate_limiter().take(member.id, ctx.clock())
    return member
