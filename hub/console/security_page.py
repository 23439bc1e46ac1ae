"""The console's "Security events" page (auditors): refusals counted per actor, reason, action
and minute, read through the same service as ``GET /v1/audit/security-events`` (a country
auditor sees its country's participants only)."""

from __future__ import annotations

import re

from aiohttp import web

from pgs_hub.hub.console import routes
from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.console.render import Markup, fmt_int, fmt_time, join, tag
from pgs_hub.hub.console.views import _field, _table, bdi
from pgs_hub.hub.i18n import Lang, t
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.services import console as stats
from pgs_hub.hub.services import security_report
from pgs_hub.protocols import api

SECURITY = stats.SECURITY
DEFAULT_HOURS = 24
MAX_HOURS = 90 * 24
_HOURS = re.compile(r"\d{1,4}")


def _hours(request: web.Request, lang: Lang) -> int:
    text = request.query.get("hours", "").strip() or str(DEFAULT_HOURS)
    if not _HOURS.fullmatch(text) or not 1 <= int(text) <= MAX_HOURS:
        raise routes.Refused(
            400, t("console.error.bad_request", lang, reason=t("console.bad.value", lang,
                                                                 name="hours"))
        )  # fmt: skip
    return int(text)


def view(lang: Lang, hours: int, doc: api.SecurityEvents) -> Markup:
    rows = doc.events
    form = tag(
        "form",
        join([_field(t("console.security.hours", lang), "hours", str(hours), type="number",
                     min="1", max=str(MAX_HOURS)),
              tag("button", t("console.security.show", lang), type="submit")]),
        method="get", action=f"/console/{SECURITY}", class_="filters",
    )  # fmt: skip
    total = sum(r.count for r in rows)
    parts = [
        tag("p", t("console.security.intro", lang), class_="muted"),
        form,
        tag("p", t("console.security.count", lang, rows=fmt_int(len(rows), lang),
                   total=fmt_int(total, lang)), id="security-count"),
        _table(
            [t("console.security.window", lang), t("console.security.actor", lang),
             t("console.country", lang), t("console.security.reason", lang),
             t("console.security.action", lang), t("console.security.times", lang),
             t("console.security.last", lang)],
            [[fmt_time(r.window_start, lang), bdi(r.actor), r.country or "—",
              tag("code", r.code), tag("code", r.action), fmt_int(r.count, lang),
              fmt_time(r.last_at, lang)] for r in rows],
            {5},
        ),
    ]  # fmt: skip
    return join(parts)


@routes.signed_in
async def security_events(
    request: web.Request, s: sessions.Session, viewer: stats.Viewer, lang: Lang
) -> web.StreamResponse:
    viewer.require(SECURITY)
    ctx = request.app[CTX]
    hours = _hours(request, lang)
    doc = await security_report.security_events(ctx, viewer.member, ctx.now() - hours * 3600)
    return routes._page(request, s, viewer, lang, SECURITY, view(lang, hours, doc))


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"/console/{SECURITY}", security_events)
