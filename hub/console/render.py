"""A tiny HTML renderer that escapes by default, localised dates, and server-rendered SVG charts.

Everything inserted into a page goes through :func:`esc` unless it is already :class:`Markup`
(built by this module from escaped parts). Templates are ``string.Template`` files in
``templates/``; their ``$names`` are filled with escaped values.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from string import Template

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal

from pgs_hub.hub.i18n import Lang, t
from pgs_hub.hub.i18n_measures import duration


class Markup(str):
    """HTML known to be safe: built here from escaped parts only."""

    __slots__ = ()


def esc(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    return Markup(sep.join(esc(p) for p in parts))


def tag(name: str, content: object = "", /, **attrs: object) -> Markup:
    """``<name attrs>content</name>``; attribute names use ``_`` for ``-`` and a trailing ``_``
    for reserved words (``class_``); ``True`` gives a bare attribute, ``None``/``False`` none."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        rendered.append(f" {attr}" if value is True else f' {attr}="{esc(value)}"')
    return Markup(f"<{name}{''.join(rendered)}>{esc(content)}</{name}>")


def void(name: str, /, **attrs: object) -> Markup:
    """A void element (``input``, ``meta``...)."""
    return Markup(tag(name, **attrs).removesuffix(f"</{name}>"))


@functools.cache
def _template(name: str) -> Template:
    text = resources.files("pgs_hub.hub.console").joinpath("templates", name).read_text("utf-8")
    return Template(text)


def render(name: str, **values: object) -> Markup:
    return Markup(_template(name).substitute({k: esc(v) for k, v in values.items()}))


# --- dates and numbers ---------------------------------------------------------------------------


def fmt_time(seconds: int, lang: Lang) -> str:
    """A moment for people, in the locale's own order and words (CLDR through Babel), in UTC:
    ``Mar 5, 2026, 14:02 UTC``, ``5 mars 2026, 14:02 UTC``, ``5 مارس 2026، 14:02 UTC``."""
    when = datetime.fromtimestamp(seconds, UTC)
    day = format_skeleton("yMMMd", when, locale=lang)
    time = format_time(when, "HH:mm", tzinfo=UTC, locale=lang)
    glue = str(Locale.parse(lang).datetime_formats["medium"]).replace("'", "")
    return glue.format(time, day) + " UTC"


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_day(day: int, lang: Lang) -> str:
    """A day (days since the epoch) as month and day: ``Mar 5``, ``5 mars``."""
    return format_skeleton("MMMd", datetime.fromtimestamp(day * 86400, UTC), locale=lang)


def fmt_int(value: int, lang: Lang) -> str:
    """A count with the locale's grouping (``1,234``, ``1 234``, ``1.234``), in Latin digits."""
    return format_decimal(value, locale=lang)


def fmt_duration(seconds: float, lang: Lang) -> str:
    """A duration in the locale's own unit words (``3 min 5 s``, ``3 د و5 ث``)."""
    return duration(seconds, lang)


# --- charts --------------------------------------------------------------------------------------

KINDS = ("alert", "seizure", "notice", "rfi", "reply", "receipt")


def stacked_bars(
    days: Sequence[int], counts: Mapping[tuple[int, str], int], lang: Lang, title_id: str
) -> Markup:
    """Messages per day, one bar per day stacked by kind (colours come from console.css)."""
    width, height, left, bottom, top = 720, 240, 36, 28, 10
    totals = [sum(counts.get((d, k), 0) for k in KINDS) for d in days]
    peak = max([*totals, 1])
    plot_h = height - bottom - top
    step = (width - left - 8) / max(len(days), 1)
    bar_w = max(step * 0.7, 1.0)
    parts: list[Markup] = [tag("title", t("console.traffic.per_day", lang), id=title_id)]
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        level = f"{y:.1f}"
        parts.append(tag("line", "", x1=left, x2=width, y1=level, y2=level, class_="grid"))
        parts.append(tag("text", tick, x=left - 4, y=f"{y + 4:.1f}", class_="axis end"))
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for kind in KINDS:
            n = counts.get((day, kind), 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            label = t(
                "console.traffic.bar", lang, label=fmt_day(day, lang), n=n,
                kind=t(f"console.kind.{kind}", lang),
            )  # fmt: skip
            parts.append(
                tag("rect", tag("title", label), x=f"{x:.1f}", y=f"{y:.1f}", width=f"{bar_w:.1f}",
                    height=f"{h:.1f}", class_=f"bar k-{kind}")
            )  # fmt: skip
        if i % label_every == 0:
            parts.append(
                tag("text", fmt_day(day, lang), x=f"{x + bar_w / 2:.1f}", y=height - 8,
                    class_="axis mid")
            )  # fmt: skip
    return tag(
        "svg", join(parts), xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {width} {height}",
        role="img", aria_labelledby=title_id, class_="chart",
    )  # fmt: skip


def horizontal_bars(rows: Sequence[tuple[str, int]], title: str, title_id: str) -> Markup:
    """One labelled horizontal bar per row (label, value)."""
    width, row_h, left = 720, 26, 260
    height = max(len(rows), 1) * row_h + 8
    peak = max([n for _, n in rows] + [1])
    parts: list[Markup] = [tag("title", title, id=title_id)]
    for i, (label, n) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - left - 60) * n / peak
        parts.append(tag("text", label, x=left - 8, y=y + 17, class_="axis end"))
        parts.append(
            tag("rect", tag("title", f"{label}: {n}"), x=left, y=y + 3, width=f"{w:.1f}",
                height=row_h - 8, class_="bar region")
        )  # fmt: skip
        parts.append(tag("text", n, x=f"{left + w + 6:.1f}", y=y + 17, class_="axis"))
    return tag(
        "svg", join(parts), xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {width} {height}",
        role="img", aria_labelledby=title_id, class_="chart",
    )  # fmt: skip
