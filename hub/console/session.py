"""The console's side of signing in: the session cookie and CSRF tokens (what the browser holds).
Links and sessions are stored (as hashes) by :mod:`hub.storage.console_sessions` and opened,
checked and closed by :mod:`hub.services.console_sessions`, which asks the policy.

The CSRF token of a session is an HMAC of its secret id, so it needs no storage and changes with
every session.
"""

from __future__ import annotations

import hashlib
import hmac

from pgs_hub.hub.services.console_sessions import (
    LINK_SECONDS,
    SESSION_SECONDS,
    TOKEN_BYTES,
    Session,
    plausible,
)

__all__ = [
    "COOKIE",
    "LINK_SECONDS",
    "SESSION_SECONDS",
    "TOKEN_BYTES",
    "Session",
    "csrf_ok",
    "csrf_token",
    "plausible",
]

COOKIE = "pgs_console"
_CSRF_LABEL = b"pgs-console-csrf/1"


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: HMAC-SHA-256 keyed by the (secret) session id."""
    return hmac.new(session_id.encode("ascii", "replace"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(session_id), given)
