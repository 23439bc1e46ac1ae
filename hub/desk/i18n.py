"""The desk's own gettext domain (``desk``), loaded with Babel from ``locale/<lang>/desk.po``.

Why compile at load: the catalogs are small (a few hundred strings), so turning each ``.po`` into
a ``.mo`` in memory the first time a language is asked for costs milliseconds and means a source
checkout, an editable install and a wheel all behave the same, with no build step that could be
forgotten. A compiled ``desk.mo`` next to the ``.po``, when present, is used as is.

Dates are formatted by Babel for the same locale (numbers and sizes: hub/i18n_measures.py;
code names: hub/i18n_names.py); Arabic is written right to left.
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import UTC, datetime
from importlib import resources
from typing import Final

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN: Final = "desk"
LANGUAGES: Final = ("en", "fr", "es", "pt", "ar")
RTL: Final = frozenset({"ar"})
DEFAULT: Final = "en"
#: The name of each language in itself, for the language switch.
NATIVE: Final = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (an unknown language falls back to English)."""
    if lang not in LANGUAGES:
        lang = DEFAULT
    folder = resources.files("pgs_hub.hub.desk").joinpath("locale", lang, "LC_MESSAGES")
    compiled = folder.joinpath(f"{DOMAIN}.mo")
    if compiled.is_file():
        return gettext.GNUTranslations(io.BytesIO(compiled.read_bytes()))
    source = folder.joinpath(f"{DOMAIN}.po")
    if not source.is_file():
        return gettext.NullTranslations()
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def negotiate(accept_language: str | None) -> str:
    """The first language of an ``Accept-Language`` header the desk speaks."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, index, tag.strip().lower().split("-")[0]))
    for _, _, tag in sorted(weighted):
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def when(epoch: int | None, lang: str) -> str:
    """A time for people, in the locale's own medium format (UTC)."""
    if not epoch:
        return ""
    moment = datetime.fromtimestamp(epoch, UTC)
    return format_datetime(moment, format="medium", tzinfo=UTC, locale=lang) + " UTC"
