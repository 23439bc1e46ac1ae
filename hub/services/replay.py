"""Single use of a request signature's nonce: the replay check of every signed request.

Durable (a replay fails after a restart too) and group-committed (hub.services.writers:
concurrent requests share one transaction). A nonce is kept for twice the signature window, after
which the signature's ``created`` time refuses the request anyway.
"""

from __future__ import annotations

from pgs_hub.hub.auth.httpsig import WINDOW_SECONDS
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage.nonces import NonceClaim


async def claim_nonce(ctx: HubContext, keyid: str, nonce: str, now: int) -> None:
    """Record ``nonce`` as used by ``keyid``; raises ``auth.replay`` if it already was."""
    fresh = await ctx.nonce_writer.submit(NonceClaim(keyid, nonce, now + 2 * WINDOW_SECONDS))
    if not fresh:
        raise AuthenticationError(
            "this request was already received (replay)", code=Code.AUTH_REPLAY
        )
