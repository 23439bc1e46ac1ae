"""Every code of the code lists has a name in every shipped language, from the one module that
owns names (hub/i18n_names.py): English and French from the lists, Spanish, Portuguese and Arabic
from the catalogs (commodities, units, regions) or the CLDR (countries)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.cli.render import content_lines
from pgs_hub.hub.i18n import LANGS, texts
from pgs_hub.protocols.codelists import commodities, iso_countries, units, wco_members, wco_regions

HUB = Path(names.__file__).parent
LISTS = {
    "commodity": (commodities, names.commodity),
    "unit": (units, names.unit),
    "region": (wco_regions, names.region),
}
# Names that are the same word in English and in the language (checked by hand, not forgotten).
SAME_AS_ENGLISH = {("region", "EUR", "fr"), ("unit", "LTR", "fr"), ("commodity", "URE", "es")}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", sorted(LISTS))
def test_every_code_has_its_own_name_in_every_language(kind: str, lang: str) -> None:
    listed, name = LISTS[kind]
    own = texts(lang)  # the catalog of lang alone: t() would fall back to English unseen
    for code, entry in listed().items():
        found = name(code, lang)
        assert found, f"{kind}.{code} has no name in {lang}"
        assert f"{kind}.{code}" in own, f"{kind}.{code}: no text in the {lang} catalog"
        if lang != "en" and (kind, code, lang) not in SAME_AS_ENGLISH:
            assert found.casefold() != entry.name_en.casefold(), f"{kind}.{code} in {lang}"


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("kind", sorted(LISTS))
def test_the_working_languages_are_the_lists_names(kind: str, lang: str) -> None:
    """The catalogs repeat the lists' English and French, so they cannot drift apart."""
    listed, name = LISTS[kind]
    for code, entry in listed().items():
        assert texts(lang)[f"{kind}.{code}"] == name(code, lang) == entry.name(lang)


@pytest.mark.parametrize("lang", LANGS)
def test_every_country_and_member_has_a_name(lang: str) -> None:
    for code in [*iso_countries(), *wco_members()]:
        assert names.country(code, lang).strip()
    assert names.country_or_code("ZZ", lang) == "ZZ"


def test_chemical_names_are_the_usual_ones() -> None:
    assert names.commodity("AN", "es") == "Nitrato de amonio"
    assert names.commodity("AN", "pt") == "Nitrato de amónio"
    assert names.commodity("AN", "ar") == "نترات الأمونيوم"
    assert names.commodity("HPO", "pt") == "Peróxido de hidrogénio"
    assert names.unit("KGM", "pt") == "quilograma"
    assert names.region("WCA", "es") == "África Occidental y Central"
    assert names.country("HK", "fr") == "Hong Kong, Chine"  # the WCO's styling
    assert names.country("NG", "ar") == "نيجيريا"  # the CLDR
    assert names.commodity("XX", "ar") is None
    assert names.unit("XX", "es") is None


def test_an_unknown_language_reads_as_english() -> None:
    assert names.commodity("AN", "de") == "Ammonium nitrate"
    assert names.country("DE", "de") == "Germany"


def test_only_this_module_reads_the_lists_names() -> None:
    """``name_fr if lang == "fr" else name_en`` was written in five places; now only here."""
    readers = []
    for path in HUB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"name_en", "name_fr"}:
                readers.append(path.relative_to(HUB).as_posix())
    assert set(readers) <= {"i18n_names.py"}, sorted(set(readers))


@pytest.mark.parametrize(
    ("lang", "commodity", "unit"),
    [("es", "AN - Nitrato de amonio", "TNE - tonelada (métrica)"),
     ("ar", "AN - نترات الأمونيوم", "TNE - طن (متري)")],
)  # fmt: skip
def test_pgs_read_names_goods_and_units(lang: str, commodity: str, unit: str) -> None:
    alert = Path(__file__).parents[1] / "vectors" / "messages" / "alert.json"
    text = "\n".join(content_lines(json.loads(alert.read_text(encoding="utf-8")), lang))
    assert commodity in text
    assert unit in text
    assert "- Ammonium nitrate" not in text
