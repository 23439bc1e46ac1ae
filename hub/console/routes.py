"""The console's HTTP edge: sign-in links, sessions, language, security headers, and the pages.

Handlers authenticate (session cookie), parse and validate the query, call one service function
from :mod:`hub.services.console` (which asks the policy), and render. Refusals become HTML pages
with the right status; every response under ``/console`` carries the security headers
(``on_response_prepare``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from urllib.parse import urlencode

from aiohttp import web

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.crypto.errors import ProofError
from pgs_hub.crypto.merkle import verify_inclusion
from pgs_hub.crypto.note import NoteVerifier
from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.console import views
from pgs_hub.hub.console.render import KINDS, Markup, iso_time
from pgs_hub.hub.errors import Forbidden, InvalidRequest, NotFound
from pgs_hub.hub.i18n import LANGS, Lang, negotiate, t
from pgs_hub.hub.server.authn import authenticate
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.proxy import external_origin
from pgs_hub.hub.services import auditlog, console_sessions
from pgs_hub.hub.services import console as stats
from pgs_hub.protocols import api

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
LANG_COOKIE = "pgs_lang"
STATIC = {
    "console.css": "text/css",
    "verify-checkpoint.js": "text/javascript",
}
DEFAULT_DAYS = 30
MAX_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY = re.compile(r"[A-Z]{2,3}")
_PARTICIPANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MID = re.compile(r"[0-9a-f-]{1,64}")
_INDEX = re.compile(r"\d{1,18}")


class Refused(Exception):
    """A console refusal, shown as an HTML page with ``status``."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


# --- language ------------------------------------------------------------------------------------


def lang_of(request: web.Request) -> Lang:
    """The page's language: the switch (``?lang=``), then the remembered choice (cookie), then
    the browser's preference (``Accept-Language``), then English."""
    for chosen in (request.query.get("lang"), request.cookies.get(LANG_COOKIE)):
        found = _shipped(chosen)
        if found is not None:
            return found
    return negotiate(request.headers.get("Accept-Language", "")) or "en"


def _shipped(value: str | None) -> Lang | None:
    return next((lang for lang in LANGS if lang == value), None)


def _lang_hrefs(request: web.Request) -> dict[Lang, str]:
    """This page in each language: the same address with ``lang=`` set."""
    query = {k: v for k, v in request.query.items() if k != "lang"}
    return {lang: f"{request.path}?{urlencode(query | {'lang': lang})}" for lang in LANGS}


def _remember_lang(request: web.Request, response: web.StreamResponse) -> None:
    """Remember a language chosen with the switch. ``SameSite=Lax``, unlike the session cookies:
    the choice is no secret, and it must come along when a sign-in link is opened from another
    application (a top-level navigation from elsewhere), so the confirmation page is already in
    the officer's language."""
    chosen = _shipped(request.query.get("lang"))
    if chosen is not None:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=365 * 86400, path="/console", httponly=True,
            samesite="Lax", secure=external_origin(request).startswith("https:"),
        )  # fmt: skip


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(("/console", "/v1/console")):
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value


# --- sessions ------------------------------------------------------------------------------------


async def _signed_in(request: web.Request) -> tuple[sessions.Session, stats.Viewer] | None:
    cookie = request.cookies.get(sessions.COOKIE)
    if not cookie:
        return None
    return await console_sessions.signed_in(request.app[CTX], cookie)


def _html(request: web.Request, body: Markup, status: int = 200) -> web.Response:
    response = web.Response(
        text=str(body), status=status, content_type="text/html", charset="utf-8"
    )
    _remember_lang(request, response)
    return response


def _refusal_page(
    request: web.Request, refusal: Refused, who: tuple[sessions.Session, stats.Viewer] | None
) -> web.Response:
    lang = lang_of(request)
    body = views.message(refusal.text, error=True)
    if refusal.status == 401:
        body = Markup(body + views.message(t("console.sign_in_help", lang)))
    page = views.page(
        lang=lang, heading=t("console.error.title", lang), body=body,
        viewer=who[1] if who else None, current=None,
        csrf=sessions.csrf_token(who[0].id) if who else None, lang_hrefs=_lang_hrefs(request),
    )  # fmt: skip
    return _html(request, page, refusal.status)


Page = Callable[[web.Request, sessions.Session, stats.Viewer, Lang], Awaitable[web.StreamResponse]]


def signed_in(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Require a session; turn refusals into HTML pages."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        lang = lang_of(request)
        who = await _signed_in(request)
        if who is None:
            refusal = Refused(401, t("console.error.unauthenticated", lang))
            return _refusal_page(request, refusal, None)
        try:
            response = await handler(request, who[0], who[1], lang)
        except Refused as refusal:
            return _refusal_page(request, refusal, who)
        except Forbidden as exc:
            text = t("console.error.forbidden", lang)
            if exc.code == "console.other_country" and who and who[1].country:
                text = t("console.error.country", lang, country=who[1].country)
            return _refusal_page(request, Refused(403, text), who)
        _remember_lang(request, response)
        return response

    return wrapped


# --- query parsing -------------------------------------------------------------------------------


def _bad(lang: Lang, reason: str) -> Refused:
    return Refused(400, t("console.error.bad_request", lang, reason=reason))


def _day(text: str | None, lang: Lang) -> date | None:
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise _bad(lang, t("console.bad.date", lang))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(lang, t("console.bad.date", lang)) from None


def _optional(
    request: web.Request, name: str, pattern: re.Pattern[str], lang: Lang, *, upper: bool = False
) -> str | None:
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if upper:
        value = value.upper()
    if not pattern.fullmatch(value):
        raise _bad(lang, t("console.bad.value", lang, name=name))
    return value


def parse_query(request: web.Request, lang: Lang, now: int) -> stats.Query:
    today = datetime.fromtimestamp(now, UTC).date()
    last = _day(request.query.get("to"), lang) or today
    first = _day(request.query.get("from"), lang) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last or (last - first).days >= MAX_DAYS:
        raise _bad(lang, t("console.bad.period", lang))
    kind = request.query.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise _bad(lang, t("console.bad.value", lang, name="kind"))
    start = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    end = int(datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp()) + 86400
    return stats.Query(
        start=start,
        end=end,
        kind=kind,
        country=_optional(request, "country", _COUNTRY, lang, upper=True),
        participant=_optional(request, "participant", _PARTICIPANT, lang),
        mid=_optional(request, "mid", _MID, lang),
    )


def _form(request: web.Request, *names: str) -> dict[str, str]:
    return {n: request.query[n] for n in names if request.query.get(n)}


def _offset(request: web.Request, lang: Lang) -> int:
    text = request.query.get("offset", "0")
    if not _INDEX.fullmatch(text):
        raise _bad(lang, t("console.bad.value", lang, name="offset"))
    return int(text)


# --- sign-in -------------------------------------------------------------------------------------


async def create_login_link(request: web.Request) -> web.Response:
    """``POST /v1/console/login-links``, RFC 9421-signed: a one-time link for the signer."""
    member = await authenticate(request, await request.read() or None)
    token = await console_sessions.new_link(request.app[CTX], member)  # asks the policy
    url = f"{external_origin(request)}/console/login/{token}"
    body = api.LoginLink(url=url, expires_in=sessions.LINK_SECONDS)
    return web.json_response(body.wire(), status=201)


async def logout(request: web.Request) -> web.StreamResponse:
    lang = lang_of(request)
    who = await _signed_in(request)
    form = await request.post()
    given = form.get("csrf")
    if who is None or not isinstance(given, str) or not sessions.csrf_ok(who[0].id, given):
        return _refusal_page(request, Refused(403, t("console.error.csrf", lang)), who)
    await console_sessions.sign_out(request.app[CTX], who[0].id)
    page = views.page(
        lang=lang, heading=t("console.sign_out", lang),
        body=Markup(views.message(t("console.signed_out", lang))
                    + views.message(t("console.sign_in_help", lang))),
        viewer=None, current=None, csrf=None, lang_hrefs=_lang_hrefs(request),
    )  # fmt: skip
    response = _html(request, page)
    response.del_cookie(sessions.COOKIE, path="/console")
    return response


# --- pages ---------------------------------------------------------------------------------------


@signed_in
async def home(
    request: web.Request, _s: sessions.Session, viewer: stats.Viewer, _l: Lang
) -> web.StreamResponse:
    chosen = _shipped(request.query.get("lang"))
    suffix = f"?{urlencode({'lang': chosen})}" if chosen else ""
    raise web.HTTPSeeOther(f"/console/{viewer.pages[0]}{suffix}")


def _page(  # noqa: PLR0917 - every page passes the same seven things
    request: web.Request, s: sessions.Session, viewer: stats.Viewer, lang: Lang, current: str,
    body: Markup, scripts: tuple[str, ...] = (),
) -> web.Response:  # fmt: skip
    html = views.page(
        lang=lang, heading=t(f"console.nav.{current}", lang), body=body, viewer=viewer,
        current=current, csrf=sessions.csrf_token(s.id), lang_hrefs=_lang_hrefs(request),
        scripts=scripts,
    )  # fmt: skip
    return _html(request, html)


@signed_in
async def traffic(
    request: web.Request, s: sessions.Session, viewer: stats.Viewer, lang: Lang
) -> web.StreamResponse:
    viewer.require(stats.TRAFFIC)
    ctx = request.app[CTX]
    query = parse_query(request, lang, ctx.now())
    data = await stats.traffic(ctx, viewer, query)
    body = views.traffic(lang, viewer, data, _form(request, "from", "to"))
    return _page(request, s, viewer, lang, stats.TRAFFIC, body)


LOG_FIELDS = ("kind", "country", "participant", "from", "to", "mid")


@signed_in
async def message_log(
    request: web.Request, s: sessions.Session, viewer: stats.Viewer, lang: Lang
) -> web.StreamResponse:
    viewer.require(stats.LOG)
    ctx = request.app[CTX]
    query = parse_query(request, lang, ctx.now())
    data = await stats.message_log(ctx, viewer, query, offset=_offset(request, lang))
    body = views.message_log(lang, viewer, data, _form(request, *LOG_FIELDS))
    return _page(request, s, viewer, lang, stats.LOG, body)


def _csv_cell(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@signed_in
async def message_log_csv(
    request: web.Request, _s: sessions.Session, viewer: stats.Viewer, lang: Lang
) -> web.StreamResponse:
    viewer.require(stats.LOG)
    ctx = request.app[CTX]
    query = parse_query(request, lang, ctx.now())
    data = await stats.message_log(ctx, viewer, query, offset=0, limit=stats.CSV_MAX_ROWS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["accepted_at", "mid", "sender", "sender_country", "kind", "tlp", "size", "group",
         "recipients"]
    )  # fmt: skip
    for row in data.rows:
        recipients = ";".join(
            f"{d.recipient_id}:{d.state}" for d in data.deliveries.get(row.seq, [])
        )
        writer.writerow(
            [_csv_cell(v) for v in (iso_time(row.accepted_at), row.mid, row.sender_id,
             row.sender_country, row.kind, row.tlp, row.size, row.group or "", recipients)]
        )  # fmt: skip
    return web.Response(
        text=out.getvalue(), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="pgs-message-log.csv"'},
    )  # fmt: skip


async def _inclusion(
    request: web.Request, viewer: stats.Viewer, lang: Lang, size: int, root: bytes
) -> tuple[dict[str, object] | None, str | None]:
    index_text = request.query.get("index", "").strip()
    mid = request.query.get("mid", "").strip().lower() or None
    if not index_text and mid is None:
        return None, None
    if (index_text and not _INDEX.fullmatch(index_text)) or (mid and not _MID.fullmatch(mid)):
        return None, t("console.bad.value", lang, name="index")
    try:
        proof = await auditlog.inclusion(
            request.app[CTX], viewer.member, index=int(index_text) if index_text else None,
            mid=None if index_text else mid, size=size,
        )  # fmt: skip
    except (NotFound, InvalidRequest, Forbidden):
        return None, t("console.audit.no_entry", lang)
    hashes = [b64u_decode(h) for h in proof.proof]
    entry = b64u_decode(proof.entry)
    try:
        verify_inclusion(b64u_decode(proof.leaf_hash), proof.index, size, hashes, root)
        verified = True
    except ProofError:
        verified = False
    event = str(json.loads(entry).get("event", ""))
    return {
        "index": proof.index, "size": size, "leaf_hash": proof.leaf_hash,
        "proof": proof.proof, "verified": verified, "event": event,
    }, None  # fmt: skip


@signed_in
async def audit(
    request: web.Request, s: sessions.Session, viewer: stats.Viewer, lang: Lang
) -> web.StreamResponse:
    viewer.require(stats.AUDIT)
    ctx = request.app[CTX]
    history = await stats.checkpoint_history(ctx, viewer)  # asks the policy first
    latest = await auditlog.latest(ctx)
    verifier = NoteVerifier.for_key(ctx.log_origin, ctx.log_key.public)
    server_ok = stats.checkpoint_signature_ok(latest.note, verifier, ctx.log_origin)
    inclusion, error = (None, None)
    if latest.size > 0:
        inclusion, error = await _inclusion(request, viewer, lang, latest.size, latest.root)
    body = views.audit(
        lang, note=latest.cosigned_note if latest.size > 0 else None,  # with witness lines
        verifier_key=verifier.encode(),
        server_ok=server_ok, size=latest.size, history=history,
        form=_form(request, "index", "mid"), inclusion=inclusion, inclusion_error=error,
    )  # fmt: skip
    return _page(request, s, viewer, lang, stats.AUDIT, body, ("verify-checkpoint.js",))


@signed_in
async def directory(
    request: web.Request, s: sessions.Session, viewer: stats.Viewer, lang: Lang
) -> web.StreamResponse:
    viewer.require(stats.DIRECTORY)
    data = await stats.directory(request.app[CTX], viewer)
    return _page(request, s, viewer, lang, stats.DIRECTORY, views.directory(lang, data))


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    data = resources.files("pgs_hub.hub.console").joinpath("static", name).read_bytes()
    return web.Response(body=data, content_type=STATIC[name], charset="utf-8")


async def not_found(request: web.Request) -> web.Response:
    lang = lang_of(request)
    who = await _signed_in(request)
    return _refusal_page(request, Refused(404, t("console.error.not_found", lang)), who)


def add_routes(app: web.Application) -> None:
    app.on_response_prepare.append(_security_headers)
    app.router.add_post("/v1/console/login-links", create_login_link)
    from pgs_hub.hub.console import security_page, signin  # noqa: PLC0415 - they import this module

    signin.add_routes(app)  # GET: a confirmation page; POST: sign in (was: GET signed in)
    app.router.add_post("/console/logout", logout)
    app.router.add_get("/console", home)
    app.router.add_get("/console/", home)
    app.router.add_get("/console/traffic", traffic)
    app.router.add_get("/console/log", message_log)
    app.router.add_get("/console/log.csv", message_log_csv)
    app.router.add_get("/console/audit", audit)
    app.router.add_get("/console/directory", directory)
    security_page.add_routes(app)
    app.router.add_get("/console/static/{name}", static)
    app.router.add_get("/console/{tail:.*}", not_found)
