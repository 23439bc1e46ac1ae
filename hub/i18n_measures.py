"""Durations and sizes written for people, in their language, by the Unicode CLDR (Babel).

"3 min 5 s", "1,5 Mo", "2.5 كيلوبايت": the unit words, their abbreviations, the decimal mark and
the way two parts are joined differ between languages (French writes "o"/"ko"/"Mo" for bytes,
Arabic has its own words), so nothing here is written by hand: the numbers are split, and
``babel.units.format_unit`` and the CLDR's list patterns say them. Sizes use the decimal units
CLDR names (1 kB = 1000 bytes), so the figure shown is true to the word shown with it.

Used by the CLI, the console and the desk; no catalog text needs a unit word of its own.
:func:`number` is the plain number the same way (the desk's quantities, ``pgs read``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from babel import Locale
from babel.numbers import format_decimal
from babel.units import format_unit

from pgs_hub.hub.i18n import Lang
from pgs_hub.hub.i18n_names import language

Length = Literal["short", "narrow", "long"]

_SIZES: Final = (
    (1000**3, "digital-gigabyte"),
    (1000**2, "digital-megabyte"),
    (1000, "digital-kilobyte"),
)


def _say(value: float, unit: str, lang: str, length: Length, digits: str = "#,##0.#") -> str:
    return str(format_unit(value, unit, length=length, format=digits, locale=language(lang)))


def duration(seconds: float, lang: str, *, length: Length = "short", precise: bool = False) -> str:
    """A duration: "42 s", "3 min 5 s", "2 h 10 min" (French), "3 د و5 ث" (Arabic)...

    Under a minute, ``precise`` keeps a tenth of a second ("0.4 sec", for timings of work done);
    otherwise whole seconds. Longer durations keep their two largest parts, without a zero part.
    """
    lang = language(lang)
    if seconds < 60 and precise:
        return _say(round(seconds, 1), "duration-second", lang, length, "#,##0.0")
    whole = round(seconds)
    if whole < 60:
        parts = [(whole, "duration-second")]
    elif whole < 3600:
        minutes, rest = divmod(whole, 60)
        parts = [(minutes, "duration-minute"), (rest, "duration-second")]
    else:
        hours, rest = divmod(whole // 60, 60)
        parts = [(hours, "duration-hour"), (rest, "duration-minute")]
    said = [_say(n, unit, lang, length) for i, (n, unit) in enumerate(parts) if n or i == 0]
    return _pair(said, lang)


def _pair(parts: list[str], lang: Lang) -> str:
    """One or two parts joined as the CLDR joins units ("3 min 5 s", "3 د و5 ث").

    The narrow style is the one Babel's data has for all five languages (the short one is partial:
    Babel does not inherit list patterns), and for two parts its ``2`` pattern, else its ``end``
    one (``format_list`` joins two parts with both ``start`` and ``end`` when ``2`` is absent,
    which repeats the second part in Arabic).
    """
    if len(parts) == 1:
        return parts[0]
    patterns = Locale.parse(lang).list_patterns["unit-narrow"]
    pattern = patterns["2"] if "2" in patterns else patterns["end"]
    return str(pattern).format(*parts)


def number(value: object, lang: str) -> str:
    """A number for people: ``24``, ``1,5`` or ``1.5`` as the locale writes it (a value that is not
    a number is shown as it is)."""
    try:
        return str(format_decimal(Decimal(str(value)), locale=language(lang)))
    except (InvalidOperation, ValueError):
        return str(value)


def size(n: int, lang: str, *, length: Length = "short") -> str:
    """A size in bytes: "512 byte", "183 kB", "1,5 Mo" (French), "1.5 م.ب" (Arabic)."""
    lang = language(lang)
    for step, unit in _SIZES:
        if n >= step:
            return _say(round(n / step, 1), unit, lang, length)
    return _say(n, "digital-byte", lang, length)
