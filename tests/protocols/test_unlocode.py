"""The UN/LOCODE reader (protocols/unlocode.py) on synthetic rows in UNECE's layout
(tests/vectors/unlocode), and its canonical list."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pgs_hub.protocols import unlocode
from pgs_hub.protocols.unlocode import Place, PlaceList, UnlocodeError

VECTORS = Path(__file__).parent.parent / "vectors" / "unlocode"
EXPECTED = json.loads((VECTORS / "expected.json").read_text("utf-8"))


def _release() -> unlocode.Parsed:
    return unlocode.parse_release(
        (name, (VECTORS / name).read_bytes()) for name in ("part1.csv", "part2-latin1.csv")
    )


def test_vectors_give_the_expected_places_and_count_every_skip() -> None:
    parsed = _release()
    assert [p.code for p in parsed.places] == EXPECTED["codes"]
    assert parsed.skipped_by_reason() == EXPECTED["skipped"]
    assert list(parsed.encodings) == EXPECTED["encodings"]
    lagos = next(p for p in parsed.places if p.code == "NGLOS")
    assert lagos == Place("NGLOS", "Lagos", "Lagos", "LA", "1234", "0627N 00323E")
    assert lagos.function_names() == ("port", "rail", "road", "airport")
    border = next(p for p in parsed.places if p.code == "NGIKJ")
    assert border.functions == "3B"
    # Latin-1 file: the diacritics come through.
    etienne = next(p for p in parsed.places if p.code == "FREBU")
    assert (etienne.name, etienne.name_ascii) == ("Saint-Étienne", "Saint-Etienne")
    # Every skip says where: the X row of part1.csv is its line 7.
    assert unlocode.Skip("part1.csv", 7, "removed") in parsed.skipped


def test_rows_read_plus_skipped_is_every_row() -> None:
    parsed = _release()
    lines = sum(
        1
        for name in ("part1.csv", "part2-latin1.csv")
        for line in (VECTORS / name).read_bytes().splitlines()
        if line.strip()
    )
    assert len(parsed.places) + len(parsed.skipped) == lines


@pytest.mark.parametrize(
    "data",
    [
        (VECTORS / "not-unlocode.csv").read_bytes(),
        b"",
        b"\x00\x01\x02 binary",
        b"PK\x03\x04 a zip is not a CSV",
    ],
)
def test_a_file_that_is_not_a_release_is_refused(data: bytes) -> None:
    with pytest.raises(UnlocodeError):
        unlocode.parse_csv(data, "x.csv")


def test_canonical_list_is_deterministic_and_reads_back() -> None:
    places = PlaceList("2024-2", "2026-12-03", _release().places)
    blob = unlocode.dumps(places)
    assert blob == unlocode.dumps(PlaceList("2024-2", "2026-12-03", _release().places))
    back = unlocode.loads(blob)
    assert back == places
    assert unlocode.sha256(back) == unlocode.sha256(places)
    assert back.get("NGLOS") is not None
    assert back.get("NGXXX") is None
    doc = json.loads(gzip.decompress(blob))
    assert doc["format"] == "pgs-unlocode/1"
    assert doc["count"] == 11


@pytest.mark.parametrize(
    "doc",
    [
        {"format": "other"},
        {"format": "pgs-unlocode/1", "version": "x", "date": "d", "count": 2, "places": []},
        {"format": "pgs-unlocode/1", "version": "x", "date": "d", "count": 1,
         "places": [["XZABC", "a", "a", "", "", ""]]},
        {"format": "pgs-unlocode/1", "version": "x", "date": "d", "count": 2,
         "places": [["NGLOS", "a", "a", "", "", ""], ["NGLOS", "a", "a", "", "", ""]]},
    ],
)  # fmt: skip
def test_a_bad_canonical_list_is_refused(doc: dict[str, object]) -> None:
    with pytest.raises(UnlocodeError):
        unlocode.loads(json.dumps(doc).encode())


# --- properties --------------------------------------------------------------------------------

_LOC = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789", min_size=3, max_size=3)
_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() and not s.strip().startswith("."))
_FUNCTION = st.text(alphabet="1234567B-0", min_size=8, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["NG", "GH", "BE", "FR"]), _LOC, _NAME, _FUNCTION),
        min_size=1,
        max_size=30,
    ),
    latin1=st.booleans(),
)
@example(rows=[("NG", "222", "Â¡", "1-------")], latin1=True)  # Latin-1 bytes that are UTF-8 too
@example(rows=[("NG", "222", "Â\xa0", "1-------")], latin1=True)  # ... read as a blank name
def test_written_rows_read_back(rows: list[tuple[str, str, str, str]], latin1: bool) -> None:
    """Any rows written in UNECE's layout come back as places (first of a code kept), whatever
    the encoding, and the canonical list round-trips."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    for country, loc, name, function in rows:
        writer.writerow(["", country, loc, name, name, "", function, "AI", "0601", "", "", ""])
    text = out.getvalue()
    data = text.encode("utf-8")
    if latin1:
        try:
            data = text.encode("latin-1")
            data.decode("utf-8")
        except UnicodeEncodeError:  # not Latin-1 text: written as UTF-8
            data = text.encode("utf-8")
        except UnicodeDecodeError:  # Latin-1 bytes only: read back as Latin-1
            pass
        else:  # bytes that are UTF-8 too ("Â¡" is "¡"): read as UTF-8, so write them so
            data = text.encode("utf-8")
    parsed = unlocode.parse_csv(data, "gen.csv")
    first: dict[str, str] = {}
    for country, loc, name, _ in rows:
        first.setdefault(country + loc, name.strip())
    assert {p.code: p.name for p in parsed.places} == first
    assert len(parsed.skipped) == len(rows) - len(first)
    listed = PlaceList("v", "d", parsed.places)
    assert unlocode.loads(unlocode.dumps(listed)) == listed


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_places_or_one_error(data: bytes) -> None:
    try:
        parsed = unlocode.parse_csv(data)
    except UnlocodeError:
        return
    assert parsed.places
