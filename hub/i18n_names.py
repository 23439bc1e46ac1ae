"""Names from the code lists in every language of :mod:`hub.i18n`.

The code lists (protocols/data) name countries, members and regions in the WCO's two working
languages, English and French. For the other languages, countries come from the Unicode CLDR
(through Babel) and the six WCO regions from the catalogs (``region.<code>``).
"""

from __future__ import annotations

from typing import Literal

from babel import Locale

from pgs_hub.hub.i18n import Lang, t
from pgs_hub.protocols.codelists import display_name, wco_regions


def working(lang: Lang) -> Literal["en", "fr"]:
    """The working language whose code-list names stand in for ``lang`` (French for French)."""
    return "fr" if lang == "fr" else "en"


def country(code: str, lang: Lang) -> str:
    """A member's or country's name in ``lang``; ``KeyError`` for a code in neither list."""
    name = display_name(code, working(lang))
    if lang in ("en", "fr"):
        return name
    return str(Locale.parse(lang).territories.get(code) or name)


def region(code: str, lang: Lang) -> str | None:
    """A WCO region's name in ``lang``, or ``None`` for a code that is not a region."""
    found = wco_regions().get(code)
    if found is None:
        return None
    return found.name(lang) if lang in ("en", "fr") else t(f"region.{code}", lang)
