"""The choices the desk's searchable pickers offer: participants, groups, countries, PGS
commodities with their HS, CAS and UN numbers, units, WCO regions.

Each picker is an HTML ``<datalist>`` (the browser filters it as the officer types, without any
script) or a list of check boxes with a small optional filter; this module only builds the
(value, label) pairs, in the officer's language.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.desk.hubapi import Person
from pgs_hub.hub.desk.mailbox import Message
from pgs_hub.hub.i18n import t
from pgs_hub.protocols.messages.summary import strings_under


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@functools.cache
def commodities(lang: str) -> tuple[Choice, ...]:
    from pgs_hub.protocols.codelists import commodities as listed  # noqa: PLC0415

    return tuple(Choice(c.code, names.commodity(c.code, lang) or c.code) for c in listed().values())


@functools.cache
def numbers(lang: str) -> dict[str, tuple[Choice, ...]]:
    """HS, CAS and UN numbers of the PGS commodities, each with its commodity's name."""
    return {
        kind: tuple(Choice(code, ", ".join(names)) for code, names in sorted(codes.items()))
        for kind, codes in names.commodities_by_number(lang).items()
    }


@functools.cache
def units(lang: str) -> tuple[Choice, ...]:
    from pgs_hub.protocols.codelists import units as listed  # noqa: PLC0415

    return tuple(Choice(u.code, names.unit(u.code, lang) or u.code) for u in listed().values())


@functools.cache
def countries(lang: str) -> tuple[Choice, ...]:
    from pgs_hub.protocols.codelists import iso_countries  # noqa: PLC0415

    found = [Choice(code, names.country_or_code(code, lang)) for code in iso_countries()]
    return tuple(sorted(found, key=lambda c: c.label))


@functools.cache
def regions(lang: str) -> tuple[Choice, ...]:
    from pgs_hub.protocols.codelists import wco_regions  # noqa: PLC0415

    return tuple(
        Choice(r.code, names.region(r.code, lang) or r.code) for r in wco_regions().values()
    )


def participants(people: list[Person], me: str, lang: str) -> list[Choice]:
    """Active participants other than the officer, labelled with their country's name and their
    role in the language (NCP is PCN in French, WCO is OMA in Spanish)."""
    tongue = names.language(lang)
    ncp, wco = t("console.role.ncp", tongue), t("console.role.wco", tongue)
    return [
        Choice(
            p.id, wco if p.role == "wco" else f"{names.country_or_code(p.country, lang)} · {ncp}"
        )
        for p in sorted(people, key=lambda p: p.id)
        if p.id != me and p.status == "active" and p.role in {"ncp", "wco"}
    ]


def places(messages: Iterable[Message], lang: str = "en") -> list[Choice]:
    """UN/LOCODEs met in the mailbox, labelled with their country: what the place picker offers
    when the hub has no UN/LOCODE list (hub/desk/places.py searches the list when it has)."""
    found: set[str] = set()
    for message in messages:
        found |= strings_under(message.content, "locode")
    return [Choice(code, names.country_or_code(code[:2], lang)) for code in sorted(found)]
