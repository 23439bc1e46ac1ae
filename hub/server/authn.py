"""Who is asking: RFC 9421 signature → current signing key → active participant, plus the nonce
replay check (durable, so a replay fails after a restart too) and the per-participant rate limit.

A route that streams its body (tus PATCH) authenticates from the request's head, before the body
is read (:func:`authenticate_head`): the signature covers the Content-Digest, so who signed and
whether they may is decided first, and the body is checked against that digest once it is in
(:meth:`SignedHead.check_body`). Refusals then come before the body's bytes are received, and the
signature's checks overlap its arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from pgs_hub.hub.auth.digest import check_content_digest, digest_algorithms
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
    """The active participant whose current key signed ``request`` with this ``body``."""
    member, _ = await _authenticate(request, body, body_follows=False)
    return member


@dataclass(frozen=True)
class SignedHead:
    """A request authenticated from its head; its body is still to be checked."""

    member: Member
    content_digest: str

    @property
    def algorithms(self) -> tuple[str, ...]:
        """What to hash the body with as it arrives (the signed digest's algorithms)."""
        return digest_algorithms(self.content_digest)

    def check_body(self, computed: Mapping[str, bytes]) -> None:
        """Raise unless the body whose digests (by each of :attr:`algorithms`) are ``computed``
        is the one the signer signed (``auth.digest_mismatch``). A digest missing from
        ``computed`` is taken as that of an empty body: it fails rather than passes."""
        check_content_digest(self.content_digest, b"", computed=computed)


async def authenticate_head(request: web.Request) -> SignedHead:
    """:func:`authenticate` for a request whose body has not been read (``body_follows``): every
    check but the body's own, which the caller makes with :meth:`SignedHead.check_body` before
    it acts on the body. The nonce is spent even if the body then never arrives whole: a client
    signs each attempt afresh."""
    member, verified = await _authenticate(request, None, body_follows=True)
    assert verified.content_digest is not None  # noqa: S101 - body_follows requires one
    return SignedHead(member, verified.content_digest)


async def _authenticate(
    request: web.Request, body: bytes | bytearray | None, *, body_follows: bool
) -> tuple[Member, VerifiedSignature]:
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
        body_follows=body_follows,
    )
    await claim_nonce(ctx, verified.keyid, verified.nonce, now)
    request[AUTHENTICATED] = member  # whose refusal it is, if one follows (security events)
    note_participant(request, member.id)
    ctx.rate_limiter().take(member.id, ctx.clock())
    return member, verified
