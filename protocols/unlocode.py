"""UN/LOCODE places: a pure reader of UNECE's CSV release and the hub's compact canonical list.

UNECE publishes UN/LOCODE as a zip of CSV files (``UNLOCODE CodeListPart1.csv`` ... ``Part3``,
free to use) that a hub operator downloads; no UN/LOCODE data ships with the hub. This module
turns those bytes into frozen :class:`Place` records and into one canonical serialisation the hub
stores and serves, and that clients cache and search *locally* (asking the hub about a code found
in a decrypted message would tell the hub what the message says).

No I/O here: callers hand in bytes. Every row that does not become a place is counted with its
reason (:class:`Skip`), so an import can say exactly what it left out.

The CSV layout (no header row), per UNECE's "contents and layout of UN/LOCODE":
``Ch, Country, Location, Name, NameWoDiacritics, SubDiv, Function, Status, Date, IATA,
Coordinates, Remarks``. ``Ch`` ``X`` marks an entry to be removed; ``=`` a reference entry (a
name pointing at another entry); a row with an empty location and a name such as ``.NIGERIA`` is a
country heading. ``Function`` is 8 characters, one per function (``1`` port ... ``7`` fixed
transport, ``B`` border crossing, ``-`` or ``0`` for none / not known).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pgs_hub.protocols.codelists import is_valid_unlocode

__all__ = [
    "FORMAT",
    "FUNCTIONS",
    "REASONS",
    "Parsed",
    "Place",
    "PlaceList",
    "Skip",
    "UnlocodeError",
    "canonical_json",
    "decode",
    "document",
    "dumps",
    "loads",
    "parse_csv",
    "parse_release",
    "sha256",
]

FORMAT: Final = "pgs-unlocode/1"
# Function characters, in UNECE's order; the name is what the desk and the CLI translate.
FUNCTIONS: Final[Mapping[str, str]] = {
    "1": "port",
    "2": "rail",
    "3": "road",
    "4": "airport",
    "5": "postal",
    "6": "multimodal",
    "7": "fixed",
    "B": "border",
}
_COLUMNS: Final = 11  # Ch .. Coordinates; Remarks may be missing at the end of a row
_MAX_FIELD: Final = 200  # a longer name is not a place name but a broken file
_CANONICAL_FUNCTIONS: Final = re.compile("1?2?3?4?5?6?7?B?")  # present ones, in FUNCTIONS order


class UnlocodeError(ValueError):
    """Bytes that are not a UN/LOCODE release (or not a canonical list)."""


@dataclass(frozen=True)
class Place:
    """One UN/LOCODE entry. ``functions`` holds the function characters present (``"14B"``)."""

    code: str
    name: str
    name_ascii: str
    subdivision: str = ""
    functions: str = ""
    coordinates: str = ""

    @property
    def country(self) -> str:
        return self.code[:2]

    def function_names(self) -> tuple[str, ...]:
        return tuple(FUNCTIONS[c] for c in self.functions)

    def row(self) -> list[str]:
        return [
            self.code,
            self.name,
            self.name_ascii,
            self.subdivision,
            self.functions,
            self.coordinates,
        ]


@dataclass(frozen=True)
class Skip:
    """A row that did not become a place: where (file, 1-based line) and why (``reason`` is one
    of :data:`REASONS`)."""

    source: str
    line: int
    reason: str


REASONS: Final[Mapping[str, str]] = {
    "country": "a country heading (empty location, name such as .NIGERIA)",
    "removed": "marked X: to be removed from UN/LOCODE",
    "reference": "a reference entry (=): a name pointing at another entry",
    "columns": "too few columns",
    "code": "not a valid UN/LOCODE (country or location)",
    "name": "no name, or a name too long",
    "duplicate": "the same code again (the first one is kept)",
}


@dataclass(frozen=True)
class Parsed:
    """What a release gave: the places (sorted by code), the skipped rows, the encodings read."""

    places: tuple[Place, ...]
    skipped: tuple[Skip, ...]
    encodings: tuple[str, ...] = ()

    def skipped_by_reason(self) -> dict[str, int]:
        counts = Counter(s.reason for s in self.skipped)
        return {reason: counts[reason] for reason in REASONS if counts[reason]}


@dataclass(frozen=True)
class PlaceList:
    """The list the hub serves: places sorted by code, the UNECE issue (``version``, e.g.
    ``2024-2``, or ``unknown``) and the day it was imported (``date``, ISO 8601)."""

    version: str
    date: str
    places: tuple[Place, ...]
    _index: dict[str, Place] = field(default_factory=dict, init=False, repr=False, compare=False)

    def get(self, code: str) -> Place | None:
        if not self._index and self.places:
            self._index.update((p.code, p) for p in self.places)
        return self._index.get(code)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding read: UTF-8 (a BOM is dropped), else Latin-1
    (older UNECE releases), which decodes any bytes."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _functions(text: str) -> str:
    found = {c for c in text.upper() if c in FUNCTIONS}
    return "".join(c for c in FUNCTIONS if c in found)


def _place(row: list[str]) -> Place | str:  # noqa: PLR0911 - one return per reason
    """A place, or the reason the row is not one."""
    if len(row) < _COLUMNS - 1:
        return "columns"
    row = [cell.strip() for cell in row] + [""] * (_COLUMNS - len(row))
    change, country, location, name, name_ascii, subdivision, function = row[:7]
    coordinates = row[10]
    if not location:
        return "country" if name.startswith(".") and not change else "reference"
    if change.upper() == "X":
        return "removed"
    if change == "=":
        return "reference"
    code = f"{country}{location}"
    if not is_valid_unlocode(code):
        return "code"
    if not name or len(name) > _MAX_FIELD or len(name_ascii) > _MAX_FIELD:
        return "name"
    return Place(
        code=code,
        name=name,
        name_ascii=name_ascii or name,
        subdivision=subdivision[:_MAX_FIELD],
        functions=_functions(function),
        coordinates=coordinates[:_MAX_FIELD],
    )


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise UnlocodeError(f"not a CSV file (line {reader.line_num}: {exc})") from None


def parse_release(
    files: Iterable[tuple[str, bytes]], done: Callable[[str, int], None] | None = None
) -> Parsed:
    """Read the CSV files of one release (``(name, bytes)`` pairs, in any order); ``done`` is
    told each file's name and size once it is read (a progress bar).

    Raises :class:`UnlocodeError` if a file is not CSV or if no file holds a single place (a
    wrong file, not a release with everything skipped).
    """
    places: dict[str, Place] = {}
    skipped: list[Skip] = []
    encodings: list[str] = []
    rows = 0
    for source, data in files:
        if b"\x00" in data:
            raise UnlocodeError(f"{source}: binary data, not a CSV file")
        text, encoding = decode(data)
        encodings.append(encoding)
        for line, row in _rows(text):
            rows += 1
            found = _place(row)
            if isinstance(found, str):
                skipped.append(Skip(source, line, found))
            elif found.code in places:
                skipped.append(Skip(source, line, "duplicate"))
            else:
                places[found.code] = found
        if done is not None:
            done(source, len(data))
    if not places:
        raise UnlocodeError(
            f"no UN/LOCODE place in {rows} rows: not a UNECE UN/LOCODE CSV file"
            if rows
            else "empty file: not a UNECE UN/LOCODE CSV file"
        )
    ordered = tuple(places[code] for code in sorted(places))
    return Parsed(places=ordered, skipped=tuple(skipped), encodings=tuple(encodings))


def parse_csv(data: bytes, source: str = "") -> Parsed:
    """:func:`parse_release` of one file."""
    return parse_release([(source, data)])


# --- the canonical list ------------------------------------------------------------------------


def document(places: PlaceList) -> dict[str, Any]:
    """The JSON document (``protocols.api.UnlocodeList``): places as arrays
    ``[code, name, name_ascii, subdivision, functions, coordinates]``, sorted by code."""
    return {
        "format": FORMAT,
        "version": places.version,
        "date": places.date,
        "count": len(places.places),
        "places": [p.row() for p in places.places],
    }


def canonical_json(places: PlaceList) -> bytes:
    return json.dumps(
        document(places), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


def sha256(places: PlaceList) -> str:
    """SHA-256 (hex) of the canonical JSON: the list's identity (the hub's ETag)."""
    return hashlib.sha256(canonical_json(places)).hexdigest()


def dumps(places: PlaceList) -> bytes:
    """The canonical serialisation: gzip (no name, no time: same list, same bytes) of the
    canonical JSON."""
    return gzip.compress(canonical_json(places), compresslevel=9, mtime=0)


_MAX_JSON: Final = 256 * 1024 * 1024  # UN/LOCODE is ~15 MB of JSON; refuse a gzip bomb


def _text(value: object, what: str, limit: int = _MAX_FIELD) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise UnlocodeError(f"bad {what}")
    return value


def loads(data: bytes) -> PlaceList:
    """Read a canonical list back (gzip or plain JSON), checking every code and field."""
    try:
        if data[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(_MAX_JSON + 1)
            if len(data) > _MAX_JSON:
                raise UnlocodeError("list too large")
        doc = json.loads(data)
    except (OSError, EOFError, ValueError) as exc:
        raise UnlocodeError(f"not a UN/LOCODE list ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UnlocodeError(f"not a {FORMAT} list")
    rows = doc.get("places")
    if not isinstance(rows, list) or doc.get("count") != len(rows):
        raise UnlocodeError("places missing or count wrong")
    places: list[Place] = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 6:
            raise UnlocodeError("bad place row")
        code, name, name_ascii, subdivision, functions, coordinates = row
        if not (
            all(isinstance(v, str) and len(v) <= _MAX_FIELD for v in row)
            and name
            and _CANONICAL_FUNCTIONS.fullmatch(functions)
            and is_valid_unlocode(code)
        ):
            raise UnlocodeError(f"bad place {str(code)[:5]!r}")
        places.append(Place(code, name, name_ascii, subdivision, functions, coordinates))
    if any(a.code >= b.code for a, b in itertools.pairwise(places)):
        raise UnlocodeError("places not sorted by code, or a code twice")
    return PlaceList(
        version=_text(doc.get("version"), "version", 40),
        date=_text(doc.get("date"), "date", 40),
        places=tuple(places),
    )
