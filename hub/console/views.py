"""The console's pages as HTML: the layout and one body builder per page (no I/O here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.console.render import (
    KINDS,
    Markup,
    esc,
    fmt_day,
    fmt_duration,
    fmt_int,
    fmt_time,
    horizontal_bars,
    iso_time,
    join,
    render,
    stacked_bars,
    tag,
    void,
)
from pgs_hub.hub.i18n import LANGS, NATIVE_NAMES, RTL, Lang, t, template
from pgs_hub.hub.services import console as stats
from pgs_hub.protocols.codelists import wco_members, wco_regions


def _t(key: str, lang: Lang, **values: object) -> str:
    return t(key, lang, **values)


def language_switch(lang: Lang, hrefs: Mapping[Lang, str]) -> Markup:
    """Links to this page in the other languages, each named in its own language."""
    links = [
        tag("li", tag("a", NATIVE_NAMES[other], href=hrefs[other], hreflang=other, lang=other,
                      dir="rtl" if other in RTL else "ltr", id=f"lang-{other}"))
        for other in LANGS
        if other != lang
    ]  # fmt: skip
    return tag("nav", tag("ul", join(links), class_="langs"), id="lang-switch",
               aria_label=_t("console.lang.label", lang))  # fmt: skip


def bdi(value: object) -> Markup:
    """User data (participant ids, countries, message ids) isolated from the text around it, so
    that a right-to-left page does not reorder its characters (``<bdi>``)."""
    return tag("bdi", value)


def html_text(key: str, lang: Lang, **values: object) -> Markup:
    """The catalog text ``key`` as HTML, each value escaped and isolated in ``<bdi>``."""
    return Markup(esc(template(key, lang)).format(**{k: bdi(v) for k, v in values.items()}))


def country_name(code: str, lang: Lang) -> str:
    return f"{names.country(code, lang)} ({code})" if code in wco_members() else code


def region_name(code: str, lang: Lang) -> str:
    return names.region(code, lang) or _t("console.region.none", lang)


def _maybe(key: str, lang: Lang, fallback: str) -> str:
    try:
        return t(key, lang)
    except KeyError:
        return fallback


def kind_name(kind: str, lang: Lang) -> str:
    return _maybe(f"console.kind.{kind}", lang, kind)


def state_name(state: str, lang: Lang) -> str:
    return _maybe(f"console.state.{state}", lang, state)


def role_name(role: str, lang: Lang) -> str:
    return _maybe(f"console.role.{role}", lang, role)


# --- layout --------------------------------------------------------------------------------------


def page(
    *,
    lang: Lang,
    heading: str,
    body: Markup,
    viewer: stats.Viewer | None,
    current: str | None,
    csrf: str | None,
    lang_hrefs: Mapping[Lang, str],
    scripts: Sequence[str] = (),
) -> Markup:
    nav = Markup("")
    tools: list[Markup] = [language_switch(lang, lang_hrefs)]
    if viewer is not None:
        items = [
            tag("li", tag("a", _t(f"console.nav.{p}", lang), href=f"/console/{p}",
                          aria_current="page" if p == current else None))
            for p in viewer.pages
        ]  # fmt: skip
        nav = tag("nav", tag("ul", join(items)), aria_label=_t("console.nav", lang))
        member = viewer.member
        tools.append(
            tag("span", html_text("console.signed_in", lang, who=member.id,
                             role=role_name(member.role, lang), country=member.country),
                id="whoami")
        )  # fmt: skip
        if csrf is not None:
            tools.append(
                tag("form",
                    join([void("input", type="hidden", name="csrf", value=csrf),
                          tag("button", _t("console.sign_out", lang), type="submit")]),
                    method="post", action="/console/logout")
            )  # fmt: skip
    title = f"{heading} · {_t('console.title', lang)}"
    return render(
        "layout.html",
        lang=lang,
        dir="rtl" if lang in RTL else "ltr",
        title=title,
        skip=_t("console.skip", lang),
        brand=_t("console.title", lang),
        nav=nav,
        tools=join(tools),
        heading=heading,
        main=body,
        scripts=join(tag("script", "", src=f"/console/static/{s}", defer=True) for s in scripts),
    )  # fmt: skip


def message(text: object, *, error: bool = False) -> Markup:
    return tag("p", text, class_="notice error" if error else "notice", role="status")


# --- forms ---------------------------------------------------------------------------------------


def _field(label: str, name: str, value: str | None, **attrs: object) -> Markup:
    field_id = f"f-{name}"
    return tag(
        "label",
        join([label, void("input", id=field_id, name=name, value=value or "", **attrs)]),
        for_=field_id,
    )


def _select(label: str, name: str, value: str | None, options: Sequence[tuple[str, str]]) -> Markup:
    field_id = f"f-{name}"
    rendered = [
        tag("option", text, value=code, selected=(code == (value or ""))) for code, text in options
    ]
    return tag(
        "label", join([label, tag("select", join(rendered), id=field_id, name=name)]), for_=field_id
    )


def period_fields(lang: Lang, form: Mapping[str, str]) -> list[Markup]:
    return [
        _field(_t("console.from", lang), "from", form.get("from"), type="date"),
        _field(_t("console.to", lang), "to", form.get("to"), type="date"),
    ]


def filters(
    lang: Lang, fields: list[Markup], action: str, label: str, button: str = "console.filter"
) -> Markup:
    return tag(
        "form",
        join([*fields, tag("button", _t(button, lang), type="submit")]),
        method="get", action=action, class_="filters", role="search", aria_label=label,
    )  # fmt: skip


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int]) -> Markup:
    head = tag("tr", join(tag("th", h, scope="col", class_="num" if i in numeric else None)
                          for i, h in enumerate(headers)))  # fmt: skip
    body = join(
        tag("tr", join(tag("td", c, class_="num" if i in numeric else None)
                       for i, c in enumerate(row)))
        for row in rows
    )  # fmt: skip
    return tag("div", tag("table", join([tag("thead", head), tag("tbody", body)])),
               class_="table-wrap")  # fmt: skip


# --- traffic -------------------------------------------------------------------------------------


def traffic(
    lang: Lang, viewer: stats.Viewer, data: stats.Traffic, form: Mapping[str, str]
) -> Markup:
    scope = (
        _t("console.traffic.scope_country", lang, country=country_name(viewer.country, lang))
        if viewer.country
        else _t("console.traffic.scope_all", lang)
    )
    parts: list[Markup] = [
        tag("p", scope, class_="muted"),
        filters(lang, period_fields(lang, form), "/console/traffic", _t("console.filters", lang)),
    ]
    median = (
        fmt_duration(data.median_seconds, lang)
        if data.median_seconds is not None
        else _t("console.traffic.none", lang)
    )
    cards = [
        ("console.traffic.total", fmt_int(data.total, lang), "total"),
        ("console.traffic.undelivered", fmt_int(data.undelivered, lang), "undelivered"),
        ("console.traffic.expired", fmt_int(data.expired, lang), "expired"),
        ("console.traffic.median", median, "median"),
    ]
    parts.append(
        tag("ul", join(tag("li", join([_t(k, lang), tag("span", v, class_="value")]),
                           id=f"card-{i}") for k, v, i in cards), class_="cards")
    )  # fmt: skip
    parts.append(tag("h2", _t("console.traffic.per_day", lang), id="per-day"))
    if data.total == 0:
        parts.append(message(_t("console.traffic.empty", lang)))
    else:
        legend = join(
            tag("li", join([tag("span", "", class_=f"swatch k-{k}", aria_hidden="true"),
                            kind_name(k, lang)]))
            for k in KINDS if any(n for (_, kind), n in data.per_day.items() if kind == k)
        )  # fmt: skip
        parts.append(stacked_bars(data.days, data.per_day, lang, "chart-per-day"))
        parts.append(tag("ul", legend, class_="legend"))
        rows = [
            [fmt_day(d, lang), *[data.per_day.get((d, k), 0) for k in KINDS]]
            for d in data.days
            if any(data.per_day.get((d, k)) for k in KINDS)
        ]
        parts.append(
            tag("details", join([tag("summary", _t("console.traffic.data", lang)),
                                 _table([_t("console.traffic.day", lang),
                                         *[kind_name(k, lang) for k in KINDS]], rows,
                                        set(range(1, 7)))]))
        )  # fmt: skip
    parts.append(tag("h2", _t("console.traffic.per_region", lang), id="per-region"))
    region_rows = [(region_name(code, lang), n) for code, n in data.per_region]
    if region_rows:
        parts.append(
            horizontal_bars(region_rows, _t("console.traffic.per_region", lang), "chart-region")
        )
    parts.append(tag("h2", _t("console.traffic.pairs", lang), id="pairs"))
    parts.append(
        _table(
            [_t("console.traffic.sender_country", lang),
             _t("console.traffic.recipient_country", lang), _t("console.messages", lang)],
            [[country_name(a, lang), country_name(b, lang), n] for a, b, n in data.pairs],
            {2},
        )
    )  # fmt: skip
    return join(parts)


# --- message log ---------------------------------------------------------------------------------


def _query(form: Mapping[str, str], **changes: object) -> str:
    merged = {k: v for k, v in form.items() if v}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return urlencode(merged)


def message_log(
    lang: Lang, viewer: stats.Viewer, data: stats.LogPage, form: Mapping[str, str]
) -> Markup:
    kinds = [("", _t("console.any", lang)), *[(k, kind_name(k, lang)) for k in KINDS]]
    fields = [
        _select(_t("console.kind", lang), "kind", form.get("kind"), kinds),
        _field(_t("console.country", lang), "country", form.get("country"),
               size=4, maxlength=3, autocomplete="off"),
        _field(_t("console.participant", lang), "participant", form.get("participant"),
               size=18, maxlength=64, autocomplete="off"),
        *period_fields(lang, form),
        _field(_t("console.log.search", lang), "mid", form.get("mid"), type="search",
               size=38, maxlength=64, autocomplete="off"),
    ]  # fmt: skip
    parts: list[Markup] = [tag("p", _t("console.log.note", lang), class_="muted")]
    if viewer.participant:
        parts.append(tag("p", _t("console.log.own", lang), class_="muted"))
    elif viewer.country:
        parts.append(
            tag("p", _t("console.traffic.scope_country", lang,
                        country=country_name(viewer.country, lang)), class_="muted")
        )  # fmt: skip
    parts.append(filters(lang, fields, "/console/log", _t("console.filters", lang)))
    parts.append(
        tag("p", tag("a", _t("console.log.csv", lang), href=f"/console/log.csv?{_query(form)}",
                     download="pgs-message-log.csv", id="csv-link"))
    )  # fmt: skip
    if not data.rows:
        parts.append(message(_t("console.log.empty", lang)))
        return join(parts)
    first, last = data.offset + 1, data.offset + len(data.rows)
    parts.append(
        tag("p", _t("console.log.count", lang, total=fmt_int(data.total, lang), first=first,
                    last=last), id="log-count", role="status")
    )  # fmt: skip
    rows = []
    for row in data.rows:
        recipients = tag(
            "ul",
            join(tag("li", join([bdi(d.recipient_id), f" — {state_name(d.state, lang)}"]))
                 for d in data.deliveries.get(row.seq, [])),
            class_="plain",
        )  # fmt: skip
        rows.append([
            tag("time", fmt_time(row.accepted_at, lang), datetime=iso_time(row.accepted_at)),
            tag("code", row.mid), bdi(row.sender_id), recipients, kind_name(row.kind, lang),
            f"TLP:{row.tlp.upper()}", _t("console.log.bytes", lang, n=fmt_int(row.size, lang)),
        ])  # fmt: skip
    parts.append(
        _table(
            [_t("console.log.time", lang), _t("console.log.search", lang),
             _t("console.log.sender", lang), _t("console.log.recipients", lang),
             _t("console.kind", lang), _t("console.log.tlp", lang), _t("console.log.size", lang)],
            rows, {6},
        )
    )  # fmt: skip
    links = []
    if data.offset > 0:
        newer = max(0, data.offset - stats.PAGE_SIZE)
        links.append(
            tag(
                "a",
                _t("console.log.previous", lang),
                href=f"/console/log?{_query(form, offset=newer or None)}",
                rel="prev",
            )
        )
    if last < data.total:
        links.append(
            tag(
                "a",
                _t("console.log.next", lang),
                href=f"/console/log?{_query(form, offset=last)}",
                rel="next",
            )
        )
    if links:
        parts.append(
            tag("nav", join(links), class_="pager", aria_label=_t("console.log.pages", lang))
        )
    return join(parts)


# --- audit ---------------------------------------------------------------------------------------


def audit(
    lang: Lang,
    *,
    note: str | None,
    verifier_key: str,
    server_ok: bool,
    size: int,
    history: Sequence[stats.CheckedCheckpoint],
    form: Mapping[str, str],
    inclusion: Mapping[str, object] | None,
    inclusion_error: str | None,
) -> Markup:
    parts: list[Markup] = [tag("h2", _t("console.audit.latest", lang), id="latest")]
    if note is None:
        parts.append(message(_t("console.audit.empty", lang)))
    else:
        server = (
            tag("span", _t("console.audit.server_ok", lang, size=size), class_="ok",
                id="server-result")
            if server_ok
            else tag("span", _t("console.audit.server_bad", lang), class_="bad", id="server-result")
        )  # fmt: skip
        browser = tag(
            "output", _t("console.audit.browser_pending", lang), id="browser-result",
            data_ok=_t("console.audit.browser_ok", lang),
            data_bad=_t("console.audit.browser_bad", lang),
            data_unsupported=_t("console.audit.browser_unsupported", lang),
            aria_live="polite",
        )  # fmt: skip
        parts += [
            tag("pre", note, id="checkpoint-note"),
            tag("p", join([_t("console.audit.key", lang), ": ",
                           tag("code", verifier_key, id="verifier-key")])),
            tag("dl", join([tag("dt", _t("console.audit.server", lang)), tag("dd", server),
                            tag("dt", _t("console.audit.browser", lang)), tag("dd", browser)]),
                class_="result"),
        ]  # fmt: skip
    parts.append(tag("h2", _t("console.audit.history", lang), id="history"))
    rows = []
    for item in history:
        if item.consistent_with_previous is None:
            consistency = tag("span", _t("console.audit.first", lang), class_="muted")
        elif item.consistent_with_previous:
            consistency = tag("span", _t("console.audit.consistent", lang), class_="ok")
        else:
            consistency = tag("span", _t("console.audit.inconsistent", lang), class_="bad")
        signature = (
            tag("span", "✓", class_="ok",
                title=_t("console.audit.server_ok", lang, size=item.row.size))
            if item.signature_ok
            else tag("span", _t("console.audit.server_bad", lang), class_="bad")
        )  # fmt: skip
        rows.append([
            item.row.size, fmt_time(item.row.signed_at, lang),
            tag("code", b64u_encode(item.row.root)), join([signature, " ", consistency]),
        ])  # fmt: skip
    parts.append(
        _table([_t("console.audit.size", lang), _t("console.audit.signed_at", lang),
                _t("console.audit.root", lang), _t("console.audit.consistency", lang)], rows, {0})
    )  # fmt: skip
    parts.append(tag("h2", _t("console.audit.inclusion", lang), id="inclusion"))
    parts.append(
        filters(lang, [
            _field(_t("console.audit.index", lang), "index", form.get("index"), type="number",
                   min=0, inputmode="numeric"),
            _field(_t("console.audit.or_mid", lang), "mid", form.get("mid"), size=38, maxlength=64),
        ], "/console/audit", _t("console.audit.inclusion", lang), "console.audit.prove")
    )  # fmt: skip
    if inclusion_error is not None:
        parts.append(message(inclusion_error, error=True))
    if inclusion is not None:
        ok = bool(inclusion["verified"])
        verdict = (
            tag("span", _t("console.audit.included", lang, index=inclusion["index"],
                           size=inclusion["size"]), class_="ok")
            if ok
            else tag("span", _t("console.audit.not_included", lang), class_="bad")
        )  # fmt: skip
        path = inclusion["proof"]
        assert isinstance(path, list)  # noqa: S101 - built by the route
        parts.append(
            tag("dl", join([
                tag("dt", _t("console.audit.index", lang)), tag("dd", inclusion["index"]),
                tag("dt", _t("console.audit.event", lang)), tag("dd", inclusion["event"]),
                tag("dt", _t("console.audit.leaf", lang)),
                tag("dd", tag("code", inclusion["leaf_hash"])),
                tag("dt", _t("console.audit.path", lang)),
                tag("dd", tag("ol", join(tag("li", tag("code", h)) for h in path))),
                tag("dt", _t("console.audit.server", lang)),
                tag("dd", verdict, id="inclusion-result"),
            ]), class_="result")
        )  # fmt: skip
    return join(parts)


# --- directory -----------------------------------------------------------------------------------


def directory(lang: Lang, data: stats.Directory) -> Markup:
    parts: list[Markup] = [
        tag("p", _t("console.directory.count", lang, n=len(data.participants)), class_="muted")
    ]
    by_region: dict[str, list[stats.ParticipantRow]] = {}
    for person in data.participants:
        by_region.setdefault(stats.region_of(person.country) or "", []).append(person)
    order = [code for code in wco_regions() if code in by_region]
    if "" in by_region:
        order.append("")
    for code in order:
        rows = []
        for person in by_region[code]:
            keys = tag("ul", join(
                tag("li", join([tag("code", k.kid), f" ({k.use}, {k.state})"]))
                for k in data.keys.get(person.id, [])
            ), class_="plain")  # fmt: skip
            rows.append([
                bdi(person.id), country_name(person.country, lang), role_name(person.role, lang),
                person.scope or "—", _maybe(f"console.status.{person.status}", lang, person.status),
                keys,
            ])  # fmt: skip
        parts.append(tag("h2", region_name(code, lang)))
        parts.append(
            _table([_t("console.directory.id", lang), _t("console.country", lang),
                    _t("console.directory.role", lang), _t("console.directory.scope", lang),
                    _t("console.directory.status", lang), _t("console.directory.keys", lang)],
                   rows, set())
        )  # fmt: skip
    parts.append(tag("h2", _t("console.directory.events", lang), id="key-events"))
    parts.append(
        _table([_t("console.audit.index", lang), _t("console.log.time", lang),
                _t("console.audit.event", lang), _t("console.directory.id", lang)],
               [[e.log_index, fmt_time(e.at, lang),
                 _maybe(f"console.event.{e.event}", lang, e.event), bdi(e.subject or "")]
                for e in data.events], {0})
    )  # fmt: skip
    return join(parts)
