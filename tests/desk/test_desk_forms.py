"""The desk's pure parts: every message kind rendered for people (codes named, evaluations
explained, in the officer's language), and guided forms validated by the protocol's own models
with each problem put back at its field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.desk import compose, i18n
from pgs_hub.hub.desk.reading import Reader, Row

EXAMPLES = Path(__file__).parents[1] / "vectors" / "messages"
ALERT_MID = "0afecd41-240b-4840-ad6d-cd125b5cc19c"


def flatten(rows: list[Row]) -> list[Row]:
    found: list[Row] = []
    for row in rows:
        found.append(row)
        found += flatten(row.children)
    return found


@pytest.mark.parametrize("kind", ["alert", "seizure", "rfi", "reply", "notice"])
@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_kind_reads_for_people(kind: str, lang: str) -> None:
    content = json.loads((EXAMPLES / f"{kind}.json").read_text())
    rows = flatten(Reader(lang, i18n.translations(lang)).rows(content))
    assert rows
    # No field is shown under its wire name: every label is a word of the catalog.
    for row in rows:
        assert "_" not in row.label, row.label
    countries = [r for r in rows if r.code in {"NG", "GH"}]
    for row in countries:
        assert row.value == names.country_or_code(row.code, lang) != row.code


def test_codes_are_named_and_evaluations_explained() -> None:
    content = json.loads((EXAMPLES / "alert.json").read_text())
    rows = flatten(Reader("fr", i18n.translations("fr")).rows(content))
    by_label = {r.label: r for r in rows}
    assert by_label["Marchandise"].code == "AN"
    assert by_label["Marchandise"].value == "Nitrate d'ammonium"
    evaluation = by_label["Évaluation"]
    assert evaluation.code == content["evaluation"]["source"] + content["evaluation"]["information"]
    assert evaluation.children[0].value.startswith(content["evaluation"]["source"] + " :")


FORMS = {
    "alert": {
        "to": ["GH-NCP-ACCRA"], "subject": "AN to Tema", "commodity": "AN",
        "description": "bags", "quantity": "1,5", "unit": "TNE", "mode": "sea",
        "origin_country": "NG", "destination_country": "GH", "action_requested": "inspect",
    },
    "seizure": {
        "to": ["NG-NCP-LAGOS"], "subject": "seized", "seized_on": "2026-01-02",
        "place_country": "GH", "place_locode": "GHTEM", "commodity": "AN", "description": "bags",
        "quantity": "24", "unit": "TNE", "quantity_seized": "20", "action_taken": "seize",
        "irt": ALERT_MID, "irt_kind": "alert",
    },
    "rfi": {"to": ["GH-NCP-ACCRA"], "subject": "Consignee?", "question": "Who is it?",
            "priority": "high"},
    "reply": {"to": ["GH-NCP-ACCRA"], "irt": ALERT_MID, "irt_kind": "alert", "answer": "Done."},
    "notice": {"group": "WCA", "category": "advisory", "title_fr": "Titre", "body_fr": "Texte",
               "scope": "regions", "regions": ["WCA"]},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_valid_forms_make_valid_messages(kind: str) -> None:
    checked = compose.check(kind, FORMS[kind])
    assert checked.ok, checked.errors
    if kind == "alert":
        assert checked.content["lines"][0]["quantity"]["value"] == 1.5  # a decimal comma
    if kind == "seizure":
        assert checked.content["references"] == [{"mid": ALERT_MID, "kind": "alert"}]
        assert checked.content["lines"][0]["quantity_seized"] == {"value": 20, "unit": "TNE"}


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("alert", {"subject": ""}, "subject"),
        ("alert", {"commodity": "XX"}, "commodity"),
        ("alert", {"quantity": "lots"}, "quantity"),
        ("alert", {"unit": "BAG"}, "unit"),
        ("alert", {"hs": "3102"}, "hs"),
        ("alert", {"cas": "6484-52-3"}, "cas"),
        ("alert", {"un_number": "19"}, "un_number"),
        ("alert", {"origin_locode": "GHTEM"}, "origin_locode"),
        ("alert", {"containers": "CSQU3054384"}, "containers"),
        ("alert", {"eval_source": "B"}, "eval_information"),
        ("alert", {"to": []}, "to"),
        ("seizure", {"seized_on": "yesterday"}, "seized_on"),
        ("seizure", {"arrests": "-1"}, "arrests"),
        ("rfi", {"question": ""}, "question"),
        ("notice", {"title_en": "Title"}, "body_en"),
        ("notice", {"regions": []}, "regions"),
        ("notice", {"tlp": "RED"}, "tlp"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(v) if isinstance(v, dict) else "",
)
def test_each_problem_is_put_at_its_field(kind: str, change: dict[str, object], field: str) -> None:
    checked = compose.check(kind, FORMS[kind] | change)
    assert field in checked.errors, checked.errors
    assert checked.errors[field] == compose.HINTS[field]


def test_a_seizure_following_an_alert_is_prefilled() -> None:
    alert = json.loads((EXAMPLES / "alert.json").read_text())
    source = {
        "mid": ALERT_MID, "kind": "alert", "sender": "NG-NCP-LAGOS", "thread": ALERT_MID,
        "subject": alert["subject"], "content": alert, "tlp": "AMBER",
        "to": ["GH-NCP-ACCRA", "WCO-PGS-BRUSSELS"],
    }  # fmt: skip
    form = compose.prefill("seizure", source, me="GH-NCP-ACCRA", today=dt.date(2026, 1, 2))
    assert form["to"] == ["NG-NCP-LAGOS", "WCO-PGS-BRUSSELS"]
    assert form["irt"] == ALERT_MID
    assert form["commodity"] == alert["lines"][0]["commodity"]
    assert form["place_country"] == "GH"
    assert form["seized_on"] == "2026-01-02"
    assert form["subject"].startswith("Re: ")
