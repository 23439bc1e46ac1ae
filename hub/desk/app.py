"""The desk's web application: its state, templates, security gate and start-up.

Built by :func:`make_app`; :func:`serve` runs it on 127.0.0.1 and prints (or opens) the one-time
link. The officer's keys are loaded only when the passphrase is typed on the unlock page, held in
:class:`Desk` in memory, and dropped on "lock" and at exit; nothing here logs a request body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import webbrowser
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from pgs_hub.crypto.keys import VerifyKey
from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.desk import i18n
from pgs_hub.hub.desk.hubapi import HubApi, HubProblem, Person
from pgs_hub.hub.desk.mailbox import Mailbox
from pgs_hub.hub.desk.security import LANG_COOKIE, SESSION, Gate, gate_middleware
from pgs_hub.hub.desk.store import ReadState
from pgs_hub.protocols.unlocode import PlaceList

log = logging.getLogger("pgs.desk")
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@dataclass
class Desk:
    """Everything one running desk holds; the unlocked part is None while locked."""

    keys: Path
    hub_url: str
    authority: VerifyKey | None
    ssl_context: ssl.SSLContext | None = None
    gate: Gate = field(default_factory=Gate)
    me: str = ""
    role: str = ""
    api: HubApi | None = None
    mailbox: Mailbox | None = None
    read: ReadState | None = None
    people: list[Person] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    places: PlaceList | None = None  # UN/LOCODE, kept in the keys folder (hub/desk/places.py)
    places_again: float = 0.0  # time.monotonic() before which the hub is not asked again
    follower: asyncio.Task[None] | None = None
    files: dict[tuple[str, int], bytes] = field(default_factory=dict)

    @property
    def unlocked(self) -> bool:
        return self.api is not None and self.mailbox is not None

    async def lock(self) -> None:
        """Forget the keys and everything decrypted."""
        if self.mailbox is not None:
            self.mailbox.hang_up()
        if self.follower is not None:
            self.follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.follower
        if self.api is not None:
            await self.api.close()
        self.api = self.mailbox = self.follower = None
        self.files.clear()


DESK = web.AppKey("desk", Desk)
TEMPLATES = web.AppKey("templates", jinja2.Environment)


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pgs_hub.hub.desk", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(request: web.Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.negotiate(request.headers.get("Accept-Language"))


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page in the officer's language, with what every page needs (CSRF token, language)."""
    desk = request.app[DESK]
    lang = language(request)
    translations = i18n.translations(lang)
    session = request.get(SESSION)
    context = {
        "_": translations.gettext, "gettext": translations.gettext,
        "ngettext": translations.ngettext, "lang": lang, "dir": i18n.direction(lang),
        "languages": i18n.NATIVE, "csrf": session.csrf if session else "",
        "me": desk.me, "unlocked": desk.unlocked, "path": request.path_qs,
        "when": lambda epoch: i18n.when(epoch, lang),
        "number": lambda value: measures.number(value, lang),
        "size": lambda n: measures.size(n, lang),
        "country_name": lambda code: names.country_or_code(code, lang),
    } | values  # fmt: skip
    body = request.app[TEMPLATES].get_template(template).render(context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


_REFUSALS = {
    "host": i18n.N_("This address is not the desk's. Open the link that pgs desk printed."),
    "session": i18n.N_(
        "This link was already used or is not valid. Start pgs desk again and open the new link."
    ),
    "origin": i18n.N_("This form was sent from another site; it was refused."),
    "csrf": i18n.N_("This form is out of date. Go back, reload the page and try again."),
}


def refuse(request: web.Request, status: int, why: str) -> web.Response:
    request.setdefault(SESSION, None)
    return render(request, "refused.html", status, reason=_REFUSALS[why], code=why)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def plain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure is a plain page: the hub's refusals say what, anything else says sorry
    (its type is logged, never its text, which might hold message content)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except HubProblem as exc:
        return render(request, "problem.html", 502, problem=exc)
    except Exception as exc:
        log.exception("desk page failed: %s", type(exc).__name__)
        return render(request, "problem.html", 500, problem=None)


async def _cleanup(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[DESK].lock()


async def _hang_up(app: web.Application) -> None:
    """Before the server waits for open requests to finish, end the live-arrival streams."""
    mailbox = app[DESK].mailbox
    if mailbox is not None:
        mailbox.hang_up()


def make_app(desk: Desk) -> web.Application:
    from pgs_hub.hub.desk import views  # noqa: PLC0415 - views import this module

    app = web.Application(
        client_max_size=MAX_UPLOAD_BYTES,
        middlewares=[plain_errors, gate_middleware(desk.gate, refuse)],
    )
    app[DESK] = desk
    app[TEMPLATES] = environment()
    app.cleanup_ctx.append(_cleanup)
    app.on_shutdown.append(_hang_up)
    views.add_routes(app)
    return app


async def start(desk: Desk, *, port: int = 0, host: str = "127.0.0.1") -> tuple[web.AppRunner, str]:
    """Start the desk; the runner (to clean up) and the one-time URL."""
    runner = web.AppRunner(make_app(desk), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None  # noqa: S101
    sockets = getattr(server, "sockets", None) or []
    desk.gate.port = int(sockets[0].getsockname()[1])
    return runner, f"http://127.0.0.1:{desk.gate.port}/?token={desk.gate.token}"


async def serve(
    desk: Desk, *, port: int, open_browser: bool, announce: Callable[[str], None]
) -> None:
    runner, url = await start(desk, port=port)
    announce(url)
    if open_browser:
        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(url)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
