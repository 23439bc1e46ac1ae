"""A code's name in a language: the one place that knows where each name comes from.

The code lists (protocols/data) name countries, members, WCO regions, PGS commodities and units in
the WCO's two working languages, English and French; those names are used as they are for ``en``
and ``fr``, so the lists stay the source of truth there. For Spanish, Portuguese and Arabic:

- countries come from the Unicode CLDR through Babel (the WCO's own styling of a member, such as
  "Hong Kong, China", exists only in English and French);
- WCO regions, commodities and units come from the ``messages`` catalogs, keys ``region.<code>``,
  ``commodity.<code>`` and ``unit.<code>``: translated by the project, to be reviewed by the WCO's
  language services (docs/codelists.md). Every language holds every key (English and French equal
  to the lists, which a test checks), so ``i18n_build check`` sees a missing translation.

Callers (CLI, console, desk) ask here rather than reading ``name_en``/``name_fr`` themselves, so a
new language or a new list is one change. A language this module does not know is read as
English; a code a list does not know gives ``None`` (or ``KeyError`` for :func:`country`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from babel import Locale

from pgs_hub.hub.i18n import LANGS, Lang, t
from pgs_hub.protocols.codelists import commodities, display_name, units, wco_regions


class _Named(Protocol):
    @property
    def name_en(self) -> str: ...
    @property
    def name_fr(self) -> str: ...


def language(lang: str) -> Lang:
    """``lang`` if it is shipped, else English (the desk passes plain strings)."""
    return next((known for known in LANGS if known == lang), "en")


def working(lang: str) -> Literal["en", "fr"]:
    """The working language whose code-list names stand in for ``lang`` (French for French)."""
    return "fr" if lang == "fr" else "en"


def country(code: str, lang: str) -> str:
    """A member's or country's name in ``lang``; ``KeyError`` for a code in neither list."""
    name = display_name(code, working(lang))
    if lang in ("en", "fr"):
        return name
    return str(Locale.parse(language(lang)).territories.get(code) or name)


def country_or_code(code: str, lang: str) -> str:
    """:func:`country`, or the code itself when no list knows it (a name to show, never raises)."""
    try:
        return country(code, lang)
    except KeyError:
        return code


def _listed(prefix: str, found: _Named | None, code: str, lang: str) -> str | None:
    if found is None:
        return None
    if lang == "fr":
        return found.name_fr
    if lang in ("es", "pt", "ar"):
        return t(f"{prefix}.{code}", language(lang))
    return found.name_en


def region(code: str, lang: str) -> str | None:
    """A WCO region's name in ``lang``, or ``None`` for a code that is not a region."""
    return _listed("region", wco_regions().get(code), code, lang)


def commodity(code: str, lang: str) -> str | None:
    """A PGS commodity's name in ``lang`` ("Nitrate d'ammonium", "نترات الأمونيوم"), or
    ``None`` for a code that is not in the list."""
    return _listed("commodity", commodities().get(code), code, lang)


def unit(code: str, lang: str) -> str | None:
    """A UN/ECE Rec. 20 unit's name in ``lang`` ("kilogramo", "quilograma"), or ``None``."""
    return _listed("unit", units().get(code), code, lang)


def commodities_by_number(lang: str) -> Mapping[str, Mapping[str, list[str]]]:
    """``{"hs"|"cas"|"un": {number: [commodity names in lang]}}`` for the PGS commodities."""
    found: dict[str, dict[str, list[str]]] = {"hs": {}, "cas": {}, "un": {}}
    for c in commodities().values():
        name = commodity(c.code, lang) or c.code
        for kind, numbers in (("hs", c.hs), ("cas", c.cas), ("un", c.un)):
            for number in numbers:
                found[kind].setdefault(number, []).append(name)
    return found
