"""Code lists shared by every Global Shield message, and pure validators for coded values.

Why a module of its own: the values that travel in PGS messages (who reports, where the goods
go, what they are, how much) must mean the same thing to every customs administration that
reads them.  Free text would not survive translation between English- and French-speaking
administrations, so the wire carries codes and this module is the single place that says which
codes exist and what they are called in the two working languages of the WCO.

Design rules, each for a reason:

* The lists live in JSON files under ``protocols/data`` so that a reviewer can diff a change to
  the membership or the commodity list without reading code.  ``docs/codelists.md`` says where
  every fact came from.
* Nothing is read at import time: a process that never validates a country code never pays for
  parsing 249 countries, and an import can never fail because of a data file.  Each accessor
  loads its file once (``functools.cache``) on first use.
* Records are frozen dataclasses and the mappings are read-only views, because these lists are
  shared by every caller in the process; one caller must not be able to edit another's view.
* Loading checks the files' own consistency (unique codes, well-formed HS/CAS/UN values, every
  member in a known region) and raises ``CodeListError`` (a ``ValueError``) on the first
  problem, so that a bad edit to a data file fails the tests instead of producing wrong
  messages later.
* The module does no network or disk I/O other than reading its own package data.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

__all__ = [
    "NON_ISO_MEMBER_CODES",
    "CodeListError",
    "Commodity",
    "Country",
    "Lang",
    "Unit",
    "UnitKind",
    "WcoMember",
    "WcoRegion",
    "commodities",
    "commodity_for_hs",
    "display_name",
    "is_iso_country",
    "is_valid_cas",
    "is_valid_hs",
    "is_valid_un_number",
    "is_valid_unlocode",
    "is_wco_member",
    "iso_countries",
    "members_of_region",
    "units",
    "wco_members",
    "wco_regions",
]

Lang = Literal["en", "fr"]
"""The WCO's two working languages; every name in these lists exists in both."""

UnitKind = Literal["mass", "volume", "length", "count"]
"""What a unit measures, so that quantities of different kinds are never added together."""

NON_ISO_MEMBER_CODES: Final[frozenset[str]] = frozenset({"XK"})
"""WCO members whose code is not an officially assigned ISO 3166-1 code.

Kosovo has been a WCO Member since 2017 but has no ISO 3166-1 code; ``XK`` is the
user-assigned code that the European Commission, the IMF and SWIFT use for it.  It is listed
here explicitly so that it is the only exception to "every member is an ISO country".
"""

_PACKAGE: Final = "pgs_hub.protocols"
_DATA_DIR: Final = "data"

_CAS_RE: Final = re.compile(r"[1-9][0-9]{1,6}-[0-9]{2}-[0-9]")
_UN_RE: Final = re.compile(r"[0-9]{4}")
_HS_RE: Final = re.compile(r"([0-9]{2})[0-9]{2}\.[0-9]{2}")
_UNLOCODE_RE: Final = re.compile(r"([A-Z]{2})[A-Z2-9]{3}")
_ALPHA2_RE: Final = re.compile(r"[A-Z]{2}")
_COMMODITY_CODE_RE: Final = re.compile(r"[A-Z]{2,4}")
_REC20_RE: Final = re.compile(r"[A-Z0-9]{3}")
_UNIT_KINDS: Final[Mapping[str, UnitKind]] = MappingProxyType(
    {"mass": "mass", "volume": "volume", "length": "length", "count": "count"}
)

_T = TypeVar("_T")


class CodeListError(ValueError):
    """A data file under ``protocols/data`` is malformed or inconsistent.

    A ``ValueError`` because the file's content, not the caller, is wrong; raised on first use
    so that a bad edit to a data file fails the test suite rather than a live exchange.
    """


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WcoRegion:
    """One of the six WCO regions; each elects a Vice-Chair to the WCO Council.

    ``code`` is our own stable code (the WCO publishes names, not codes), so that messages
    and dashboards do not depend on the spelling of a region's name.
    """

    code: str
    name_en: str
    name_fr: str

    def name(self, lang: Lang = "en") -> str:
        """The region's name in ``lang``."""
        return self.name_en if lang == "en" else self.name_fr


@dataclass(frozen=True, slots=True)
class WcoMember:
    """A WCO Member: a state or a separate customs territory (Hong Kong, Macao, ...).

    ``alpha2`` is the ISO 3166-1 alpha-2 code, except for the entries in
    :data:`NON_ISO_MEMBER_CODES`.  ``region`` is a :class:`WcoRegion` code.
    """

    alpha2: str
    name_en: str
    name_fr: str
    region: str

    def name(self, lang: Lang = "en") -> str:
        """The member's name in ``lang``, as the WCO styles it (e.g. "Hong Kong, China")."""
        return self.name_en if lang == "en" else self.name_fr


@dataclass(frozen=True, slots=True)
class Country:
    """An officially assigned ISO 3166-1 alpha-2 code with its English and French short names.

    Routes in PGS messages (origin, transit, destination) may name countries that are not WCO
    Members, so route fields are checked against this list rather than the membership list.
    """

    alpha2: str
    name_en: str
    name_fr: str

    def name(self, lang: Lang = "en") -> str:
        """The country's ISO short name in ``lang``."""
        return self.name_en if lang == "en" else self.name_fr


@dataclass(frozen=True, slots=True)
class Commodity:
    """A Programme Global Shield commodity, identified by our short stable ``code``.

    ``hs`` holds the HS 2022 six-digit subheadings (``"NNNN.NN"``) that cover it, ``cas`` the
    CAS Registry Numbers of the single substances it names (empty for mixtures and articles),
    and ``un`` the four-digit UN numbers under which it is usually transported.  A shipment is
    matched to a commodity by HS code, because the HS code is what the declaration carries.
    """

    code: str
    name_en: str
    name_fr: str
    hs: tuple[str, ...]
    cas: tuple[str, ...]
    un: tuple[str, ...]

    def name(self, lang: Lang = "en") -> str:
        """The commodity's name in ``lang``."""
        return self.name_en if lang == "en" else self.name_fr


@dataclass(frozen=True, slots=True)
class Unit:
    """A UN/ECE Recommendation 20 unit code allowed for PGS quantities.

    Only a short list is allowed so that every receiver can convert every quantity it gets;
    ``kind`` says what the unit measures.
    """

    code: str
    name_en: str
    name_fr: str
    kind: UnitKind

    def name(self, lang: Lang = "en") -> str:
        """The unit's name in ``lang``."""
        return self.name_en if lang == "en" else self.name_fr


# --------------------------------------------------------------------------------------------
# Pure validators (no data files involved, except the ISO list for UN/LOCODE)
# --------------------------------------------------------------------------------------------


def is_valid_cas(s: str) -> bool:
    """True if ``s`` is a well-formed CAS Registry Number with a correct check digit.

    Format: 2 to 7 digits (no leading zero), a hyphen, 2 digits, a hyphen, 1 check digit.  The
    check digit is the sum of the other digits, each multiplied by its position counted from
    the right starting at 1, modulo 10.  Checking it catches most single-digit typos and
    transpositions in hand-keyed seizure reports, which a format check alone would let through.
    """
    if _CAS_RE.fullmatch(s) is None:
        return False
    digits = s.replace("-", "")
    body, check = digits[:-1], int(digits[-1])
    total = sum(weight * int(d) for weight, d in enumerate(reversed(body), start=1))
    return total % 10 == check


def is_valid_un_number(s: str) -> bool:
    """True if ``s`` is a UN number in our wire form: exactly four ASCII digits, not ``"0000"``.

    The wire form is the bare four digits (``"1942"``), not ``"UN1942"``: one spelling per value
    keeps comparison and indexing trivial, and the "UN" prefix is presentation that a user
    interface adds back.  Leading zeros are significant (explosives are ``"0029"``, ...), which
    is why the value is a string and not an integer.
    """
    return _UN_RE.fullmatch(s) is not None and s != "0000"


def is_valid_hs(s: str) -> bool:
    """True if ``s`` is a six-digit HS subheading written ``"NNNN.NN"`` in an HS chapter.

    The dot is required so that a six-digit HS code can never be confused with a national
    eight- or ten-digit tariff line.  The chapter (first two digits) must be 01 to 97 and not
    77: chapter 77 is reserved by the HS for future use, and 98-99 are reserved for national
    use, so neither can appear in an international exchange.
    """
    m = _HS_RE.fullmatch(s)
    if m is None:
        return False
    chapter = int(m.group(1))
    return 1 <= chapter <= 97 and chapter != 77


def is_valid_unlocode(s: str) -> bool:
    """True if ``s`` is a UN/LOCODE: an ISO 3166-1 country code then three characters [A-Z2-9].

    Written without the space (``"BEANR"`` for Antwerp), which is how UN/LOCODEs are exchanged
    electronically.  The location part uses the digits 2-9 only, because UN/LOCODE excludes 0
    and 1 to avoid confusion with the letters O and I.  The country part must be an officially
    assigned ISO code; UN/LOCODE's ``XZ`` (installations in international waters) is rejected
    because a PGS event always happens in some country's jurisdiction.
    """
    m = _UNLOCODE_RE.fullmatch(s)
    return m is not None and is_iso_country(m.group(1))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _data_dir() -> Traversable:
    """The ``protocols/data`` directory, found through the import system.

    ``importlib.resources`` finds package data wherever the package was installed from (a
    wheel, a zip, a source tree).  Python 3.11 cannot build that view for a *namespace*
    package whose path also holds setuptools' editable-install hook (it raises
    ``NotADirectoryError``); in that one case the directory next to this module is the same
    directory, so it is used instead.
    """
    try:
        return resources.files(_PACKAGE) / _DATA_DIR
    except NotADirectoryError:
        return Path(__file__).resolve().parent / _DATA_DIR


def _read_json(filename: str) -> Any:
    """Parse one file from ``protocols/data``."""
    return json.loads((_data_dir() / filename).read_text(encoding="utf-8"))


def _records(filename: str, key: str) -> list[dict[str, Any]]:
    """The list stored under ``key`` in ``filename``, checked to be a list of JSON objects."""
    document = _read_json(filename)
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise CodeListError(f"{filename}: expected an object with a list under {key!r}")
    items: list[Any] = document[key]
    for item in items:
        if not isinstance(item, dict):
            raise CodeListError(f"{filename}: every entry under {key!r} must be an object")
    return items


def _text(filename: str, item: dict[str, Any], field: str) -> str:
    """A required, non-empty string field of one record."""
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        raise CodeListError(f"{filename}: {item!r} needs a non-empty string {field!r}")
    return value


def _texts(filename: str, item: dict[str, Any], field: str) -> tuple[str, ...]:
    """A required list-of-strings field of one record, as a tuple."""
    value = item.get(field)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CodeListError(f"{filename}: {item!r} needs a list of strings {field!r}")
    return tuple(value)


def _code(filename: str, item: dict[str, Any], field: str, pattern: re.Pattern[str]) -> str:
    """A required code field that must match ``pattern`` exactly."""
    value = _text(filename, item, field)
    if pattern.fullmatch(value) is None:
        raise CodeListError(f"{filename}: {field} {value!r} is not of the form {pattern.pattern}")
    return value


def _index(filename: str, pairs: list[tuple[str, _T]]) -> Mapping[str, _T]:
    """A read-only mapping from code to record, refusing duplicate codes."""
    result: dict[str, _T] = {}
    for code, record in pairs:
        if code in result:
            raise CodeListError(f"{filename}: duplicate code {code!r}")
        result[code] = record
    return MappingProxyType(result)


@functools.cache
def wco_regions() -> Mapping[str, WcoRegion]:
    """The six WCO regions by code (AMC, APC, ESA, EUR, MENA, WCA)."""
    filename = "wco_regions.json"
    pairs: list[tuple[str, WcoRegion]] = []
    for item in _records(filename, "regions"):
        region = WcoRegion(
            code=_code(filename, item, "code", re.compile(r"[A-Z]{3,4}")),
            name_en=_text(filename, item, "name_en"),
            name_fr=_text(filename, item, "name_fr"),
        )
        pairs.append((region.code, region))
    return _index(filename, pairs)


@functools.cache
def iso_countries() -> Mapping[str, Country]:
    """All officially assigned ISO 3166-1 alpha-2 codes, by code."""
    filename = "iso3166_alpha2.json"
    pairs: list[tuple[str, Country]] = []
    for item in _records(filename, "countries"):
        country = Country(
            alpha2=_code(filename, item, "alpha2", _ALPHA2_RE),
            name_en=_text(filename, item, "name_en"),
            name_fr=_text(filename, item, "name_fr"),
        )
        pairs.append((country.alpha2, country))
    return _index(filename, pairs)


@functools.cache
def wco_members() -> Mapping[str, WcoMember]:
    """The WCO Members by code, each in exactly one region.

    Every member code must be an ISO country or be listed in :data:`NON_ISO_MEMBER_CODES`,
    and every region must exist; the file is refused otherwise.
    """
    filename = "wco_members.json"
    regions = wco_regions()
    countries = iso_countries()
    pairs: list[tuple[str, WcoMember]] = []
    for item in _records(filename, "members"):
        member = WcoMember(
            alpha2=_code(filename, item, "alpha2", _ALPHA2_RE),
            name_en=_text(filename, item, "name_en"),
            name_fr=_text(filename, item, "name_fr"),
            region=_text(filename, item, "region"),
        )
        if member.region not in regions:
            raise CodeListError(f"{filename}: {member.alpha2} is in unknown region {member.region}")
        if member.alpha2 not in countries and member.alpha2 not in NON_ISO_MEMBER_CODES:
            raise CodeListError(f"{filename}: {member.alpha2} is not an ISO 3166-1 code")
        pairs.append((member.alpha2, member))
    return _index(filename, pairs)


@functools.cache
def members_of_region(code: str) -> tuple[WcoMember, ...]:
    """The members of WCO region ``code``, sorted by alpha-2 code.

    Raises ``KeyError`` for an unknown region code: asking for a region that does not exist
    is a programming error, and an empty tuple would hide it.
    """
    if code not in wco_regions():
        raise KeyError(code)
    found = (m for m in wco_members().values() if m.region == code)
    return tuple(sorted(found, key=lambda m: m.alpha2))


@functools.cache
def commodities() -> Mapping[str, Commodity]:
    """The PGS commodities by their stable code (``AN``, ``CAN``, ``URE``, ...).

    Every HS code, CAS number and UN number in the file is validated on load, and no HS
    subheading may belong to two commodities (otherwise :func:`commodity_for_hs` would have to
    guess).
    """
    filename = "pgs_commodities.json"
    pairs: list[tuple[str, Commodity]] = []
    for item in _records(filename, "commodities"):
        commodity = Commodity(
            code=_code(filename, item, "code", _COMMODITY_CODE_RE),
            name_en=_text(filename, item, "name_en"),
            name_fr=_text(filename, item, "name_fr"),
            hs=_texts(filename, item, "hs"),
            cas=_texts(filename, item, "cas"),
            un=_texts(filename, item, "un"),
        )
        if not commodity.hs:
            raise CodeListError(f"{filename}: {commodity.code} has no HS code")
        for hs in commodity.hs:
            if not is_valid_hs(hs):
                raise CodeListError(f"{filename}: {commodity.code} has bad HS code {hs!r}")
        for cas in commodity.cas:
            if not is_valid_cas(cas):
                raise CodeListError(f"{filename}: {commodity.code} has bad CAS number {cas!r}")
        for un in commodity.un:
            if not is_valid_un_number(un):
                raise CodeListError(f"{filename}: {commodity.code} has bad UN number {un!r}")
        pairs.append((commodity.code, commodity))
    result = _index(filename, pairs)
    _hs_index(filename, result)  # refuses an HS code claimed by two commodities
    return result


def _hs_index(filename: str, by_code: Mapping[str, Commodity]) -> Mapping[str, Commodity]:
    """Map each HS subheading to the one commodity that claims it."""
    return _index(filename, [(hs, c) for c in by_code.values() for hs in c.hs])


@functools.cache
def _commodities_by_hs() -> Mapping[str, Commodity]:
    return _hs_index("pgs_commodities.json", commodities())


def commodity_for_hs(hs: str) -> Commodity | None:
    """The PGS commodity covering HS subheading ``hs`` (``"NNNN.NN"``), or ``None``.

    ``None`` means "not a PGS commodity", which is an ordinary answer for most goods.  The
    lookup is exact: write the code in the canonical dotted six-digit form.
    """
    return _commodities_by_hs().get(hs)


@functools.cache
def units() -> Mapping[str, Unit]:
    """The UN/ECE Recommendation 20 unit codes allowed for PGS quantities, by code."""
    filename = "units.json"
    pairs: list[tuple[str, Unit]] = []
    for item in _records(filename, "units"):
        raw_kind = _text(filename, item, "kind")
        kind = _UNIT_KINDS.get(raw_kind)
        if kind is None:
            raise CodeListError(f"{filename}: unknown unit kind {raw_kind!r}")
        unit = Unit(
            code=_code(filename, item, "code", _REC20_RE),
            name_en=_text(filename, item, "name_en"),
            name_fr=_text(filename, item, "name_fr"),
            kind=kind,
        )
        pairs.append((unit.code, unit))
    return _index(filename, pairs)


# --------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------


def is_iso_country(code: str) -> bool:
    """True if ``code`` is an officially assigned ISO 3166-1 alpha-2 code.

    Case-sensitive on purpose: the wire form is upper case, and accepting ``"de"`` here would
    let two spellings of the same country into signed messages.
    """
    return code in iso_countries()


def is_wco_member(code: str) -> bool:
    """True if ``code`` is the code of a WCO Member (including ``XK``, see above)."""
    return code in wco_members()


def display_name(code: str, lang: Lang = "en") -> str:
    """A human-readable name for a member or country code, in ``lang``.

    The WCO's own styling wins for members (``"Hong Kong, China"``, ``"Kosovo"``), since this
    is what their officers expect to read; other codes get their ISO short name.  Raises
    ``KeyError`` for a code that is in neither list, rather than echoing the code back, so that
    a typo cannot pass for a name.
    """
    member = wco_members().get(code)
    if member is not None:
        return member.name(lang)
    return iso_countries()[code].name(lang)
