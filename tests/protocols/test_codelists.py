"""Tests for protocols.codelists: the facts in the data files and the pure validators.

The data tests pin the facts that other code relies on (186 members, the regional split,
the PGS commodity codes), so that an edit to a data file that changes one of them has to
change a test too, on purpose.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgs_hub.protocols import codelists
from pgs_hub.protocols.codelists import (
    NON_ISO_MEMBER_CODES,
    commodities,
    commodity_for_hs,
    display_name,
    is_iso_country,
    is_valid_cas,
    is_valid_hs,
    is_valid_un_number,
    is_valid_unlocode,
    is_wco_member,
    iso_countries,
    members_of_region,
    units,
    wco_members,
    wco_regions,
)

DATA = Path(codelists.__file__).resolve().parent / "data"

_CACHED = (
    codelists.wco_regions,
    codelists.iso_countries,
    codelists.wco_members,
    codelists.members_of_region,
    codelists.commodities,
    codelists._commodities_by_hs,
    codelists.units,
)


def _raw(filename: str) -> Any:
    return json.loads((DATA / filename).read_text(encoding="utf-8"))


def _cas_check_digit(body: str) -> int:
    """Independent re-statement of the CAS rule, so the test does not trust the code."""
    return sum(i * int(d) for i, d in enumerate(reversed(body), start=1)) % 10


# --------------------------------------------------------------------------------------------
# WCO membership and regions
# --------------------------------------------------------------------------------------------

WCA_AS_BRIEFED = {
    *("BJ", "BF", "CV", "CM", "CF", "TD", "CG", "CI", "CD", "GA", "GM", "GH"),
    *("GN", "GW", "LR", "ML", "MR", "NE", "NG", "ST", "SN", "SL", "TG"),
}


def test_exactly_186_members() -> None:
    assert len(wco_members()) == 186


def test_member_codes_unique_in_the_file() -> None:
    codes = [m["alpha2"] for m in _raw("wco_members.json")["members"]]
    assert len(codes) == 186
    assert len(set(codes)) == len(codes)


def test_every_member_code_is_iso_except_the_listed_exceptions() -> None:
    not_iso = {code for code in wco_members() if not is_iso_country(code)}
    assert not_iso == set(NON_ISO_MEMBER_CODES) == {"XK"}


def test_customs_territories_are_members() -> None:
    for code in ("HK", "MO", "CW", "BM"):
        assert is_wco_member(code), code
    assert wco_members()["HK"].name_en == "Hong Kong, China"
    assert wco_members()["MO"].name_fr == "Macao, Chine"


@pytest.mark.parametrize(
    "code",
    ["PW", "SB", "GQ", "XK", "PS", "SR", "AG", "SS", "SO", "TL"],
)
def test_recent_accessions_are_members(code: str) -> None:
    assert is_wco_member(code)


@pytest.mark.parametrize(
    "code",
    # UN members outside the WCO in 2024-2025; VC acceded on 17 Sep 2025 (187th Member) and is
    # deliberately not in the 186-member snapshot.
    ["KN", "VC", "GD", "DM", "LI", "MC", "SM", "KP", "FM", "KI", "MH", "TV", "NR", "TW", "VA"],
)
def test_non_members(code: str) -> None:
    assert not is_wco_member(code)
    assert is_iso_country(code)


def test_six_regions() -> None:
    assert set(wco_regions()) == {"AMC", "APC", "ESA", "EUR", "MENA", "WCA"}
    assert wco_regions()["WCA"].name("fr") == "Afrique occidentale et centrale"


def test_west_and_central_africa() -> None:
    # The brief listed 23 WCA members; the WCO itself reported 24 WCA Members in May 2022
    # after Equatorial Guinea acceded (the 184th WCO Member).  See docs/codelists.md.
    wca = {m.alpha2 for m in members_of_region("WCA")}
    assert wca == WCA_AS_BRIEFED | {"GQ"}
    assert len(wca) == 24


def test_region_sizes() -> None:
    sizes = {code: len(members_of_region(code)) for code in wco_regions()}
    assert sizes == {"AMC": 33, "APC": 35, "ESA": 24, "EUR": 52, "MENA": 18, "WCA": 24}


def test_every_member_in_exactly_one_region() -> None:
    seen: dict[str, str] = {}
    for region in wco_regions():
        for member in members_of_region(region):
            assert member.alpha2 not in seen, (member.alpha2, seen.get(member.alpha2), region)
            seen[member.alpha2] = region
    assert set(seen) == set(wco_members())
    assert sum(len(members_of_region(r)) for r in wco_regions()) == 186


@pytest.mark.parametrize(
    ("code", "region"),
    [("IL", "EUR"), ("KZ", "EUR"), ("XK", "EUR"), ("IR", "APC"), ("SD", "MENA"), ("MR", "WCA")],
)
def test_members_whose_region_is_not_obvious(code: str, region: str) -> None:
    assert wco_members()[code].region == region


def test_members_of_region_is_sorted_and_rejects_unknown_region() -> None:
    codes = [m.alpha2 for m in members_of_region("EUR")]
    assert codes == sorted(codes)
    with pytest.raises(KeyError):
        members_of_region("XXX")


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name_fr"),
    [
        ("DE", "Allemagne"),
        ("ES", "Espagne"),
        ("BE", "Belgique"),
        ("CH", "Suisse"),
        ("NL", "Pays-Bas"),
        ("GR", "Grèce"),
        ("EG", "Égypte"),
        ("MA", "Maroc"),
        ("CM", "Cameroun"),
        ("ZA", "Afrique du Sud"),
        ("JP", "Japon"),
        ("MX", "Mexique"),
    ],
)
def test_french_names_of_obvious_members(code: str, name_fr: str) -> None:
    member = wco_members()[code]
    assert member.name_fr == name_fr
    assert member.name_fr != member.name_en
    assert display_name(code, "fr") == name_fr


def test_all_names_present_in_both_languages() -> None:
    names = [(m.name_en, m.name_fr) for m in wco_members().values()]
    names += [(c.name_en, c.name_fr) for c in iso_countries().values()]
    for name_en, name_fr in names:
        assert name_en.strip() == name_en != ""
        assert name_fr.strip() == name_fr != ""
    differing = [m for m in wco_members().values() if m.name_fr != m.name_en]
    assert len(differing) > 100


def test_display_name() -> None:
    assert display_name("HK") == "Hong Kong, China"
    assert display_name("XK", "fr") == "Kosovo"
    assert display_name("AQ", "fr") == "Antarctique"  # not a member: ISO name
    with pytest.raises(KeyError):
        display_name("ZZ")


# --------------------------------------------------------------------------------------------
# ISO 3166-1
# --------------------------------------------------------------------------------------------


def test_iso_list_has_the_249_assigned_codes() -> None:
    assert len(iso_countries()) == 249
    assert all(len(c) == 2 and c.isascii() and c.isupper() for c in iso_countries())


@pytest.mark.parametrize("code", ["DE", "HK", "MO", "CW", "PS", "AQ", "SX", "BQ", "TW", "EH"])
def test_iso_codes_present(code: str) -> None:
    assert is_iso_country(code)


@pytest.mark.parametrize("code", ["XK", "UK", "EU", "AN", "YU", "de", "", "DEU", "ZZ"])
def test_not_iso_codes(code: str) -> None:
    assert not is_iso_country(code)


# --------------------------------------------------------------------------------------------
# PGS commodities
# --------------------------------------------------------------------------------------------

EXPECTED_CAS = {
    "AN": ("6484-52-2",),
    "CAN": (),
    "URE": ("57-13-6",),
    "KCA": ("3811-04-9",),
    "SCA": ("7775-09-9",),
    "PCH": ("7778-74-7", "7790-98-9"),
    "HPO": ("7722-84-1",),
    "NAC": ("7697-37-2",),
    "NME": ("75-52-5",),
    "KNI": ("7757-79-1",),
    "SNI": ("7631-99-4",),
    "ACE": ("67-64-1",),
    "ALP": ("7429-90-5",),
    "SFU": (),
    "DCO": (),
    "PCP": (),
    "DCP": (),
    "IGN": (),
    "EDE": (),
}

EXPECTED_HS = {
    "3102.30": "AN",
    "3102.40": "CAN",
    "3102.10": "URE",
    "2829.19": "KCA",
    "2829.11": "SCA",
    "2829.90": "PCH",
    "2847.00": "HPO",
    "2808.00": "NAC",
    "2904.20": "NME",
    "2834.21": "KNI",
    "3102.50": "SNI",
    "2914.11": "ACE",
    "7603.10": "ALP",
    "7603.20": "ALP",
    "3603.10": "SFU",
    "3603.20": "DCO",
    "3603.30": "PCP",
    "3603.40": "DCP",
    "3603.50": "IGN",
    "3603.60": "EDE",
}


def test_commodity_codes_are_the_documented_ones() -> None:
    assert set(commodities()) == set(EXPECTED_CAS)


def test_ammonium_nitrate() -> None:
    an = commodities()["AN"]
    assert an.hs == ("3102.30",)
    assert an.cas == ("6484-52-2",)
    assert {"1942", "2067"} <= set(an.un)
    assert an.name("fr") == "Nitrate d'ammonium"


@pytest.mark.parametrize(("code", "cas"), sorted(EXPECTED_CAS.items()))
def test_commodity_cas_numbers(code: str, cas: tuple[str, ...]) -> None:
    assert commodities()[code].cas == cas


@pytest.mark.parametrize(("hs", "code"), sorted(EXPECTED_HS.items()))
def test_commodity_for_hs(hs: str, code: str) -> None:
    found = commodity_for_hs(hs)
    assert found is not None
    assert found.code == code


def test_every_hs_code_in_the_file_is_expected() -> None:
    claimed = {hs for c in commodities().values() for hs in c.hs}
    assert claimed == set(EXPECTED_HS)


@pytest.mark.parametrize("hs", ["3102.31", "310230", "2804.10", "", "3603.00"])
def test_commodity_for_hs_unknown(hs: str) -> None:
    assert commodity_for_hs(hs) is None


def test_all_commodity_cas_numbers_pass_the_check_digit() -> None:
    for commodity in commodities().values():
        for cas in commodity.cas:
            body, check = cas.replace("-", "")[:-1], int(cas[-1])
            assert _cas_check_digit(body) == check, (commodity.code, cas)
            assert is_valid_cas(cas)


def test_all_commodity_hs_and_un_codes_well_formed() -> None:
    for commodity in commodities().values():
        assert commodity.hs
        assert all(is_valid_hs(hs) for hs in commodity.hs), commodity.code
        assert all(is_valid_un_number(un) for un in commodity.un), commodity.code
        assert commodity.name_fr != commodity.name_en


@pytest.mark.parametrize(
    ("code", "un"),
    [
        ("AN", "1942"),
        ("HPO", "2014"),
        ("HPO", "2015"),
        ("NME", "1261"),
        ("ACE", "1090"),
        ("ALP", "1309"),
        ("ALP", "1396"),
        ("SCA", "1495"),
        ("KCA", "1485"),
        ("KNI", "1486"),
        ("SNI", "1498"),
        ("NAC", "2031"),
        ("PCH", "1489"),
        ("PCH", "1442"),
        ("PCH", "0402"),
        ("EDE", "0030"),
        ("DCP", "0029"),
    ],
)
def test_commodity_un_numbers(code: str, un: str) -> None:
    assert un in commodities()[code].un


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


def test_units() -> None:
    assert set(units()) == {"KGM", "GRM", "TNE", "LTR", "MTQ", "MTR", "H87"}
    assert units()["KGM"].kind == "mass"
    assert units()["LTR"].kind == "volume"
    assert units()["H87"].kind == "count"
    assert units()["H87"].name("fr") == "pièce"
    assert units()["MTQ"].name_fr == "mètre cube"


# --------------------------------------------------------------------------------------------
# Validators
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cas", ["6484-52-2", "7732-18-5", "50-00-0", "7440-44-0", "1333-74-0"])
def test_valid_cas(cas: str) -> None:
    assert is_valid_cas(cas)


@pytest.mark.parametrize(
    "cas",
    [
        "6484-52-3",  # wrong check digit
        "6484-25-2",  # transposed digits
        "06484-52-2",  # leading zero
        "6484522",
        "6484-5-22",
        "6-52-2",
        "12345678-52-2",  # first part too long
        " 6484-52-2",
        "6484-52-2\n",
        "",
        "\u0666\u0664\u0668\u0664-\u0665\u0662-\u0662",  # Arabic-Indic digits
    ],
)
def test_invalid_cas(cas: str) -> None:
    assert not is_valid_cas(cas)


@given(
    body=st.text(alphabet="0123456789", min_size=4, max_size=9).filter(lambda b: b[0] != "0"),
    wrong=st.integers(min_value=1, max_value=9),
)
def test_cas_check_digit_property(body: str, wrong: int) -> None:
    check = _cas_check_digit(body)
    cas = f"{body[:-2]}-{body[-2:]}-{check}"
    assert is_valid_cas(cas)
    assert not is_valid_cas(f"{body[:-2]}-{body[-2:]}-{(check + wrong) % 10}")


@pytest.mark.parametrize("un", ["1942", "0004", "0029", "3550"])
def test_valid_un_number(un: str) -> None:
    assert is_valid_un_number(un)


@pytest.mark.parametrize(
    "un",
    [
        "UN1942",
        "UN 1942",
        "194",
        "19420",
        "0000",
        "",
        "19 2",
        "\uff11\uff19\uff14\uff12",  # fullwidth digits
    ],
)
def test_invalid_un_number(un: str) -> None:
    assert not is_valid_un_number(un)


@pytest.mark.parametrize("hs", ["3102.30", "0101.21", "9706.10", "2847.00"])
def test_valid_hs(hs: str) -> None:
    assert is_valid_hs(hs)


@pytest.mark.parametrize(
    "hs",
    ["310230", "3102.3", "3102.300", "3102-30", "0000.00", "7700.00", "9801.00", "", "3102.3a"],
)
def test_invalid_hs(hs: str) -> None:
    assert not is_valid_hs(hs)


@pytest.mark.parametrize("locode", ["BEANR", "DEHAM", "NLRTM", "HKHKG", "CWWIL", "US2AB"])
def test_valid_unlocode(locode: str) -> None:
    assert is_valid_unlocode(locode)


@pytest.mark.parametrize(
    "locode", ["BE ANR", "beanr", "BEAN0", "BEAN1", "XZABC", "XKPRN", "ZZABC", "BEAN", "BEANRR", ""]
)
def test_invalid_unlocode(locode: str) -> None:
    assert not is_valid_unlocode(locode)


# --------------------------------------------------------------------------------------------
# Immutability and loading checks
# --------------------------------------------------------------------------------------------


def test_records_and_mappings_are_read_only() -> None:
    member = wco_members()["DE"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        member.region = "APC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        wco_members()["ZZ"] = member  # type: ignore[index]
    assert wco_members()["DE"].region == "EUR"


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    for fn in _CACHED:
        fn.cache_clear()
    yield
    for fn in _CACHED:
        fn.cache_clear()


def _patch_file(monkeypatch: pytest.MonkeyPatch, filename: str, document: Any) -> None:
    real = codelists._read_json

    def fake(name: str) -> Any:
        return document if name == filename else real(name)

    monkeypatch.setattr(codelists, "_read_json", fake)


@pytest.mark.usefixtures("fresh_caches")
def test_loader_rejects_duplicate_member(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _raw("wco_members.json")
    doc["members"].append(dict(doc["members"][0]))
    _patch_file(monkeypatch, "wco_members.json", doc)
    with pytest.raises(ValueError, match="duplicate"):
        wco_members()


@pytest.mark.usefixtures("fresh_caches")
def test_loader_rejects_unknown_region(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _raw("wco_members.json")
    doc["members"][0]["region"] = "ATLANTIS"
    _patch_file(monkeypatch, "wco_members.json", doc)
    with pytest.raises(ValueError, match="unknown region"):
        wco_members()


@pytest.mark.usefixtures("fresh_caches")
def test_loader_rejects_non_iso_member(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _raw("wco_members.json")
    doc["members"][0]["alpha2"] = "ZZ"
    _patch_file(monkeypatch, "wco_members.json", doc)
    with pytest.raises(ValueError, match="ISO"):
        wco_members()


@pytest.mark.usefixtures("fresh_caches")
def test_loader_rejects_bad_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _raw("pgs_commodities.json")
    doc["commodities"][0]["cas"] = ["6484-52-3"]
    _patch_file(monkeypatch, "pgs_commodities.json", doc)
    with pytest.raises(ValueError, match="CAS"):
        commodities()


@pytest.mark.usefixtures("fresh_caches")
def test_loader_rejects_hs_code_claimed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _raw("pgs_commodities.json")
    doc["commodities"][1]["hs"] = [*doc["commodities"][1]["hs"], doc["commodities"][0]["hs"][0]]
    _patch_file(monkeypatch, "pgs_commodities.json", doc)
    with pytest.raises(ValueError, match="duplicate"):
        commodities()


@pytest.mark.usefixtures("fresh_caches")
def test_loader_rejects_unknown_unit_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _raw("units.json")
    doc["units"][0]["kind"] = "temperature"
    _patch_file(monkeypatch, "units.json", doc)
    with pytest.raises(ValueError, match="kind"):
        units()
