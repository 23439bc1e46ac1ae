"""Request authentication for the hub's API: RFC 9421 HTTP Message Signatures with an RFC 9530
Content-Digest, signed by clients and verified by the server. No I/O: callers pass the clock and
a key resolver, and keep the nonce store."""

from pgs_hub.hub.auth.digest import check_content_digest, content_digest
from pgs_hub.hub.auth.httpsig import (
    SIGNATURE_LABEL,
    WINDOW_SECONDS,
    VerifiedSignature,
    new_nonce,
    sign_request,
    verify_request,
)

__all__ = [
    "SIGNATURE_LABEL",
    "WINDOW_SECONDS",
    "VerifiedSignature",
    "check_content_digest",
    "content_digest",
    "new_nonce",
    "sign_request",
    "verify_request",
]
