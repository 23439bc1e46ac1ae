"""The desk's gettext domain is complete: every msgid in its code and templates (extracted here
with Babel's own API, as ``pybabel extract`` would) is translated in all five languages, with the
same ``{placeholders}``; and each catalog compiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.desk import i18n

DESK = Path(__file__).parents[2] / "hub" / "desk"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None}
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def extracted() -> set[str]:
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(DESK), METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    found.discard("")
    return found


def test_the_code_has_many_strings_to_translate() -> None:
    assert len(extracted()) > 250  # the extraction itself works (templates and Python)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_string_is_translated(lang: str) -> None:
    with (DESK / "locale" / lang / "LC_MESSAGES" / "desk.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    translated = {str(m.id): str(m.string) for m in catalog if m.id and m.string}
    missing = sorted(extracted() - set(translated))
    assert not missing, f"{lang}: {len(missing)} untranslated, first: {missing[:5]}"
    for msgid, msgstr in translated.items():
        assert set(_PLACEHOLDER.findall(msgid)) == set(_PLACEHOLDER.findall(msgstr)), msgid
    sample = "Unlock your keys"
    assert i18n.translations(lang).gettext(sample) == translated[sample]


def test_negotiation_and_direction() -> None:
    assert i18n.negotiate("ar-EG,ar;q=0.9,en;q=0.5") == "ar"
    assert i18n.negotiate("de-DE, pt;q=0.8, fr;q=0.9") == "fr"
    assert i18n.negotiate(None) == "en"
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("fr") == "ltr"
    assert measures.number(1.5, "fr") == "1,5"
    assert names.country_or_code("NG", "ar") == "نيجيريا"
