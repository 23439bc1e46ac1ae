"""The place picker's search (hub/desk/places.py), run on the officer's computer: by code, by
name with or without diacritics, in one country, ports, airports and border crossings first."""

from __future__ import annotations

from pgs_hub.hub.desk import places
from pgs_hub.hub.desk.pickers import Choice
from pgs_hub.protocols.unlocode import Place, PlaceList

LIST = PlaceList(
    "test",
    "2026-12-03",
    (
        Place("FREBU", "Saint-Étienne", "Saint-Etienne", "42", "1234"),
        Place("NGABV", "Abuja", "Abuja", "FC", "4"),
        Place("NGLAA", "Lagos Inland", "Lagos Inland", "LA", "3"),
        Place("NGLAG", "Lagoon Depot", "Lagoon Depot", "LA", ""),
        Place("NGLOS", "Lagos", "Lagos", "LA", "1234"),
        Place("NGIKJ", "Idiroko", "Idiroko", "OG", "3B"),
    ),
)


def codes(found: list[Place]) -> list[str]:
    return [p.code for p in found]


def test_ports_airports_and_borders_first_then_names_that_start_with_it() -> None:
    assert codes(places.search(LIST, "lag", "NG")) == ["NGLOS", "NGLAG", "NGLAA"]
    assert codes(places.search(LIST, "", "NG")) == ["NGABV", "NGIKJ", "NGLOS", "NGLAG", "NGLAA"]


def test_an_exact_code_comes_first_and_a_code_needs_no_country() -> None:
    assert codes(places.search(LIST, "NGLAA"))[0] == "NGLAA"
    assert codes(places.search(LIST, "ng laa"))[0] == "NGLAA"
    assert codes(places.search(LIST, "LOS", "NG")) == ["NGLOS"]


def test_with_or_without_diacritics_and_only_in_the_country_chosen() -> None:
    assert codes(places.search(LIST, "étienne")) == ["FREBU"]
    assert codes(places.search(LIST, "etienne")) == ["FREBU"]
    assert places.search(LIST, "lagos", "GH") == []
    assert len(places.search(LIST, "", "", limit=2)) == 2


def test_first_offer_is_the_chosen_countries_then_the_mailbox() -> None:
    seen = [Choice("GHTEM", "Ghana"), Choice("NGLOS", "Nigeria")]
    offered = places.initial(LIST, seen, ["FR", ""], "en")
    assert [c.value for c in offered] == ["FREBU", "GHTEM", "NGLOS"]
    assert offered[2].label == "Lagos (Nigeria) · LA"  # a mailbox place named from the list
    assert places.initial(None, seen, ["FR"], "en") == seen
