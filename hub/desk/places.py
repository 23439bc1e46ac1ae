"""The place picker: UN/LOCODE places searched in the list kept in the officer's keys folder.

The list comes whole from the hub (hub/desk/hubapi.py ``places``) and every search runs here:
asking the hub for "places like Lag" would tell it what the officer is writing. Without a list
(the hub's operator has not imported UNECE's release yet) the picker offers the places already
met in the mailbox, and the page says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.desk.pickers import Choice
from pgs_hub.protocols.unlocode import Place, PlaceList

LIMIT: Final = 50  # choices a search answers with
FIRST: Final = frozenset("14B")  # ports, airports and border crossings come first


def search(places: PlaceList, query: str, country: str = "", limit: int = LIMIT) -> list[Place]:
    """Places whose code starts with ``query`` (with or without its country) or whose name, with
    or without diacritics, contains it; only in ``country`` when given. An exact code first, then
    ports, airports and border crossings, then names that start with the query, then by name."""
    wanted = query.strip().casefold()
    code = query.strip().upper().replace(" ", "")
    country = country.strip().upper()[:2]
    found: list[tuple[tuple[int, int, int, str], Place]] = []
    for place in places.places:
        if country and place.code[:2] != country:
            continue
        name, plain = place.name.casefold(), place.name_ascii.casefold()
        if wanted and not (
            place.code.startswith(code)
            or place.code[2:].startswith(code)
            or wanted in name
            or wanted in plain
        ):
            continue
        rank = (
            0 if place.code == code else 1,
            0 if FIRST & set(place.functions) else 1,
            0 if name.startswith(wanted) or plain.startswith(wanted) else 1,
            place.name_ascii.casefold(),
        )
        found.append((rank, place))
    found.sort(key=lambda pair: pair[0])
    return [place for _, place in found[:limit]]


def label(place: Place, lang: str) -> str:
    where = f"{place.name} ({names.country_or_code(place.country, lang)})"
    return f"{where} · {place.subdivision}" if place.subdivision else where


def choices(places: Iterable[Place], lang: str) -> list[Choice]:
    return [Choice(p.code, label(p, lang)) for p in places]


def initial(
    places: PlaceList | None, seen: Iterable[Choice], countries: Iterable[str], lang: str
) -> list[Choice]:
    """What the page offers before any typing (and without script): the places of the countries
    already chosen in the form, ports and airports first, then those met in the mailbox."""
    offered: dict[str, Choice] = {}
    if places is not None:
        for country in dict.fromkeys(c for c in countries if c):
            for choice in choices(search(places, "", country, limit=100), lang):
                offered.setdefault(choice.value, choice)
    for choice in seen:
        known = places.get(choice.value) if places is not None else None
        offered.setdefault(
            choice.value, Choice(choice.value, label(known, lang)) if known else choice
        )
    return list(offered.values())
