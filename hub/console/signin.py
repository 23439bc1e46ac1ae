"""Console sign-in by confirmation: a one-time link opens a page, and only a POST from that page
signs in.

``GET /console/login/{token}`` changes nothing: it shows whom the link signs in as and, when the
browser already holds a session, whom that session belongs to, and asks. ``POST`` to the same
address consumes the link, ends the browser's previous session (if any) and opens the new one.
So a link sent by somebody else (login CSRF: being signed in, unknowingly, as the attacker) needs
a click on a page that names the attacker's account, and a session is never replaced silently.

The POST carries a CSRF token bound to the browser: a random value set as a ``SameSite=Strict``
cookie by the GET and repeated in the form (a double-submit token; there is no session to bind it
to yet). A page of another site can neither read nor set that cookie.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from pgs_hub.hub.console import routes
from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.console.render import Markup, join, tag, void
from pgs_hub.hub.console.views import html_text, message, page
from pgs_hub.hub.i18n import Lang, t
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.proxy import external_origin
from pgs_hub.hub.services import console_sessions

LOGIN_CSRF_COOKIE = "pgs_login_csrf"
_LOGIN_PATH = "/console/login"


def _confirm_page(
    request: web.Request, lang: Lang, participant: str, current: str | None, csrf: str
) -> web.Response:
    parts = [message(html_text("console.login.confirm", lang, who=participant))]
    if current is not None and current != participant:
        parts.append(
            message(html_text("console.login.replaces", lang, current=current), error=True)
        )
    elif current == participant:
        parts.append(message(html_text("console.login.same", lang, who=participant)))
    form = tag(
        "form",
        join([
            void("input", type="hidden", name="csrf", value=csrf),
            tag("button", html_text("console.login.button", lang, who=participant), type="submit",
                id="confirm-sign-in"),
        ]),
        method="post", action=request.path_qs,  # a ?lang= chosen on this page comes along
    )  # fmt: skip
    body = Markup(join(parts) + form)
    html = page(
        lang=lang, heading=t("console.login.title", lang), body=body, viewer=None, current=None,
        csrf=None, lang_hrefs=routes._lang_hrefs(request),
    )  # fmt: skip
    response = routes._html(request, html)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, csrf, max_age=sessions.LINK_SECONDS, path=_LOGIN_PATH, httponly=True,
        samesite="Strict", secure=external_origin(request).startswith("https:"),
    )  # fmt: skip
    return response


def _refused(request: web.Request, lang: Lang, key: str) -> web.Response:
    return routes._refusal_page(request, routes.Refused(403, t(key, lang)), None)


async def confirm(request: web.Request) -> web.StreamResponse:
    """``GET /console/login/{token}``: the confirmation page (nothing consumed)."""
    ctx = request.app[CTX]
    lang = routes.lang_of(request)
    member = await console_sessions.link_owner(ctx, request.match_info["token"])
    if member is None:  # unknown, used or expired link, or a participant the policy refuses
        return _refused(request, lang, "console.error.link")
    who = await routes._signed_in(request)
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE)
    if csrf is None or not sessions.plausible(csrf):
        csrf = secrets.token_urlsafe(sessions.TOKEN_BYTES)
    return _confirm_page(request, lang, member.id, who[0].participant if who else None, csrf)


async def sign_in(request: web.Request) -> web.StreamResponse:
    """``POST /console/login/{token}``: consume the link and open a session (replacing the
    browser's previous one, which the page named)."""
    ctx = request.app[CTX]
    lang = routes.lang_of(request)
    form = await request.post()
    given = form.get("csrf")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if (
        not isinstance(given, str)
        or expected is None
        or not sessions.plausible(expected)
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        return _refused(request, lang, "console.error.csrf")
    previous = request.cookies.get(sessions.COOKIE)
    opened = await console_sessions.sign_in_with_link(ctx, request.match_info["token"], previous)
    if opened is None:
        return _refused(request, lang, "console.error.link")
    response = web.HTTPSeeOther("/console")
    response.set_cookie(
        sessions.COOKIE, opened.id, max_age=sessions.SESSION_SECONDS, path="/console",
        httponly=True, samesite="Strict", secure=external_origin(request).startswith("https:"),
    )  # fmt: skip
    response.del_cookie(LOGIN_CSRF_COOKIE, path=_LOGIN_PATH)
    routes._remember_lang(request, response)  # the language chosen on the way stays
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console/login/{token}", confirm)
    app.router.add_post("/console/login/{token}", sign_in)
