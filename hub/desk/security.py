"""Who may talk to the desk: the one-time link, the session cookie, Host, Origin and CSRF checks.

The desk listens on 127.0.0.1 only, but any web page the officer visits could still send their
browser to it. So:

* the URL ``pgs desk`` prints carries a one-time token; it is exchanged (once) for a session
  cookie (HttpOnly, SameSite=Strict) and every other page needs that cookie;
* the Host header must be ``127.0.0.1:PORT`` or ``localhost:PORT`` (a DNS-rebinding page arrives
  with its own host name);
* every POST must come from the desk's own origin and carry the session's CSRF token.

Refusals are plain pages with a 4xx status; nothing about the session is logged.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

COOKIE = "pgs_desk"
LANG_COOKIE = "pgs_desk_lang"
TOKEN_BYTES = 32


@dataclass
class Session:
    """A browser signed in to the desk: its cookie value and CSRF token."""

    id: str = field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(TOKEN_BYTES))


class Gate:
    """The one-time token and the live sessions of one desk process."""

    def __init__(self) -> None:
        self._token: str | None = secrets.token_urlsafe(TOKEN_BYTES)
        self.sessions: dict[str, Session] = {}
        self.port = 0

    @property
    def token(self) -> str:
        if self._token is None:
            raise RuntimeError("the desk's one-time token has been used")
        return self._token

    def exchange(self, offered: str) -> Session | None:
        """A new session for the right token, once; None for any other token or a second use."""
        expected = self._token
        if expected is None or not hmac.compare_digest(offered.encode(), expected.encode()):
            return None
        self._token = None
        session = Session()
        self.sessions[session.id] = session
        return session

    def session_of(self, request: web.Request) -> Session | None:
        cookie = request.cookies.get(COOKIE, "")
        return self.sessions.get(cookie) if cookie else None

    def allowed_hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    def allowed_origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.allowed_hosts())


def set_session_cookie(response: web.StreamResponse, session: Session) -> None:
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="Strict", path="/")


SESSION: web.RequestKey[Session | None] = web.RequestKey("session", Session | None)  # type: ignore[arg-type]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Refuse = Callable[[web.Request, int, str], web.Response]

#: Paths served without a session: the token exchange and the page's own style sheet.
OPEN_PATHS = frozenset({"/", "/static/desk.css"})


def gate_middleware(gate: Gate, refuse: Refuse) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Host check, then session check, then (for POST) Origin and CSRF checks."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in gate.allowed_hosts():
            return refuse(request, 421, "host")
        session = gate.session_of(request)
        request[SESSION] = session
        if session is None and request.path not in OPEN_PATHS:
            return refuse(request, 403, "session")
        if request.method == "POST":
            if request.headers.get("Origin") not in gate.allowed_origins():
                return refuse(request, 403, "origin")
            if session is None:
                return refuse(request, 403, "session")
            form = await request.post()
            offered = str(form.get("csrf", ""))
            if not hmac.compare_digest(offered.encode(), session.csrf.encode()):
                return refuse(request, 403, "csrf")
        response = await handler(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
            " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # "same-origin", not "no-referrer": with no referrer Chromium sends `Origin: null` on POST.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return check
