"""Invalid message content: each case names the exact JSON pointer and says what is wrong."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from pgs_hub.protocols.errors import (
    FieldProblem,
    InvalidDataError,
    MessageValidationError,
    ProtocolError,
)
from pgs_hub.protocols.messages import MessageKind, parse_message
from pgs_hub.protocols.messages.problems import MAX_PROBLEMS, json_pointer, problems_from

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "messages"
DELETE = object()


def example(kind: MessageKind) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VECTORS / f"{kind.value}.json").read_text("utf-8"))
    return loaded


def problems_of(kind: MessageKind, data: bytes | dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(MessageValidationError) as caught:
        parse_message(kind, data)
    return list(caught.value.problems)


@dataclass(frozen=True)
class Case:
    """Set (or delete) the member at JSON pointer ``at`` in the example of ``kind``; expect exactly
    one problem, at ``pointer`` (``at`` unless given), whose message contains ``says``."""

    name: str
    kind: MessageKind
    at: str
    value: Any
    says: str
    pointer: str | None = None

    @property
    def expected_pointer(self) -> str:
        return self.at if self.pointer is None else self.pointer

    def document(self) -> dict[str, Any]:
        doc = copy.deepcopy(example(self.kind))
        parts = [p.replace("~1", "/").replace("~0", "~") for p in self.at.split("/")[1:]]
        target: Any = doc
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last: Any = int(parts[-1]) if isinstance(target, list) else parts[-1]
        if self.value is DELETE:
            del target[last]
        else:
            target[last] = copy.deepcopy(self.value)
        return doc


A, S, N, Q, R, C = (
    MessageKind.ALERT,
    MessageKind.SEIZURE,
    MessageKind.NOTICE,
    MessageKind.RFI,
    MessageKind.REPLY,
    MessageKind.RECEIPT,
)
UNITS = "must be one of KGM, GRM, TNE, LTR, MTQ, MTR, H87"
MODES = "must be one of sea, air, road, rail, post, courier, multimodal, other"
ACTIONS = "must be one of monitor, inspect, hold, controlled_delivery, seize"

CASES = [
    # required members and unknown members
    Case("missing subject", A, "/subject", DELETE, "is required"),
    Case("missing lines", A, "/lines", DELETE, "is required"),
    Case("missing action", A, "/action_requested", DELETE, "is required"),
    Case("routing data in content", A, "/sender", "NG-NCP", "not an allowed field"),
    Case("tlp in content", A, "/tlp", "AMBER", "not an allowed field"),
    Case("unknown nested member", A, "/lines/0/colour", "white", "not an allowed"),
    Case("pointer escaping", A, "/a~1b~0c", 1, "not an allowed field"),
    # commodity lines
    Case("unit not in list", A, "/lines/0/quantity/unit", "BAG", UNITS),
    Case("unit lower case", A, "/lines/0/quantity/unit", "kgm", UNITS),
    Case("quantity as string", A, "/lines/0/quantity/value", "24", "must be a number"),
    Case("quantity as boolean", A, "/lines/0/quantity/value", True, "must be a number"),
    Case("quantity zero", A, "/lines/0/quantity/value", 0, "greater than 0"),
    Case("quantity negative", A, "/lines/0/quantity/value", -3.5, "greater than 0"),
    Case("quantity too precise", A, "/lines/0/quantity/value", 1e-07, "6 decimal places"),
    Case("quantity too large", A, "/lines/0/quantity/value", 10000000000000000, "15 digits"),
    Case(
        "cas check digit",
        A,
        "/lines/0/cas",
        "6484-52-3",
        "not a valid CAS number (format like 6484-52-2, with a matching check digit)",
    ),
    Case("cas format", A, "/lines/0/cas", "6484522", "not a valid CAS number"),
    Case("hs without dot", A, "/lines/0/hs", "310230", "like 3102.30"),
    Case("hs reserved chapter", A, "/lines/0/hs", "9801.00", "HS subheading"),
    Case(
        "un number with prefix", A, "/lines/0/un_number", "UN2067", "not a UN number of four digits"
    ),
    Case("un number letters", A, "/lines/0/un_number", "20A7", "four digits"),
    Case(
        "commodity unknown",
        A,
        "/lines/0/commodity",
        "TNT",
        "not a PGS commodity code: must be one of AN, CAN",
    ),
    Case("concentration over 100", A, "/lines/0/concentration", 150, "must be at most 100"),
    Case("concentration as string", A, "/lines/0/concentration", "98.5", "must be a number"),
    Case("description blank", A, "/lines/0/description", " \n ", "must not be blank"),
    Case("no lines", A, "/lines", [], "must have at least 1 item"),
    Case(
        "too many lines", A, "/lines", [example(A)["lines"][0]] * 51, "must have at most 50 items"
    ),
    Case("lines not a list", A, "/lines", {"0": {}}, "must be a list"),
    Case("line not an object", A, "/lines", ["AN"], "must be an object", pointer="/lines/0"),
    # text
    Case("subject too long", A, "/subject", "x" * 201, "at most 200 characters"),
    Case("subject empty", A, "/subject", "", "must not be empty"),
    Case("subject blank", A, "/subject", "   ", "must not be blank"),
    Case("subject two lines", A, "/subject", "a\nb", "one line"),
    Case("subject a number", A, "/subject", 24, "must be a string"),
    Case("narrative control character", A, "/narrative", "a\x00b", "control characters"),
    Case("narrative escape character", A, "/narrative", "a\x1b[31mb", "control characters"),
    Case("narrative lone surrogate", A, "/narrative", "a\ud800b", "valid Unicode text"),
    Case("narrative too long", A, "/narrative", "x" * 20_001, "at most 20000 characters"),
    # shipment and route
    Case("mode unknown", A, "/shipment/mode", "ship", MODES),
    Case("missing shipment", A, "/shipment", DELETE, "is required"),
    Case("country lower case", A, "/shipment/route/origin/country", "ng", "ISO 3166-1 alpha-2"),
    Case("country unassigned", A, "/shipment/route/origin/country", "XX", "ISO 3166-1 alpha-2"),
    Case("country alpha-3", A, "/shipment/route/destination/country", "GHA", "ISO 3166-1 alpha-2"),
    Case(
        "locode in other country",
        A,
        "/shipment/route/origin/locode",
        "GHTEM",
        "in the country given",
    ),
    Case("locode with space", A, "/shipment/route/transit/0/locode", "TG LF", "without a space"),
    Case("locode digit one", A, "/shipment/route/destination/locode", "GHT1M", "UN/LOCODE"),
    Case(
        "too many transit points",
        A,
        "/shipment/route/transit",
        [{"country": "TG"}] * 11,
        "at most 10 items",
    ),
    Case(
        "container check digit",
        A,
        "/shipment/containers/1",
        "GSHU4120615",
        "not a valid container number (check digit)",
    ),
    Case(
        "container lower case",
        A,
        "/shipment/containers/0",
        "gshu4120574",
        "is not a container number",
    ),
    Case("container category", A, "/shipment/containers/0", "GSHX4120574", "U, J or Z"),
    Case(
        "container twice",
        A,
        "/shipment/containers",
        ["GSHU4120574", "GSHU4120574"],
        "each container once",
    ),
    Case(
        "arrival before departure",
        A,
        "/shipment/arrival",
        "2024-05-19",
        "not be before the departure",
    ),
    Case(
        "departure not a date",
        A,
        "/shipment/departure",
        "20/05/2024",
        "date written like 2024-05-31",
    ),
    Case("departure impossible date", A, "/shipment/departure", "2024-02-30", "date written like"),
    Case("departure as a number", A, "/shipment/departure", 20240520, "date written like"),
    # parties, indicators, evaluation, references, attachments
    Case(
        "party role unknown",
        A,
        "/parties/0/role",
        "shipper",
        "must be one of consignor, consignee, declarant, end_user",
    ),
    Case("party without name", A, "/parties/1/name", DELETE, "is required"),
    Case(
        "indicator code lower case", A, "/risk_indicators/0/code", "ng-rp-014", "upper-case letters"
    ),
    Case("detection unknown", A, "/detection", "dog", "must be one of risk_profiling"),
    Case("concealment unknown", A, "/concealment/method", "hidden", "must be one of not_concealed"),
    Case("action unknown", A, "/action_requested", "destroy", ACTIONS),
    Case("source grade D", A, "/evaluation/source", "D", "must be one of A, B, C, X"),
    Case(
        "information grade as number", A, "/evaluation/information", 2, "must be one of 1, 2, 3, 4"
    ),
    Case(
        "reference not a uuid",
        A,
        "/references",
        [{"mid": "MSG-1"}],
        "UUID",
        pointer="/references/0/mid",
    ),
    Case(
        "reference upper-case uuid",
        A,
        "/references",
        [{"mid": "CAF8FC4B-7484-4A8C-BD69-9DBAD9F5E04F"}],
        "lower case",
        pointer="/references/0/mid",
    ),
    Case(
        "reference kind unknown",
        A,
        "/references",
        [{"mid": "caf8fc4b-7484-4a8c-bd69-9dbad9f5e04f", "kind": "memo"}],
        "must be one of alert, seizure",
        pointer="/references/0/kind",
    ),
    Case(
        "attachment sha256 upper case",
        A,
        "/attachments/0/sha256",
        "764833FD284652EC1F1B9F60459C29748D3DBD0159C5353D6D07092B5156557C",
        "64 lower-case hex digits",
    ),
    Case(
        "attachment sha256 short",
        A,
        "/attachments/0/sha256",
        "764833fd",
        "64 lower-case hex digits",
    ),
    Case("attachment size as string", A, "/attachments/0/size", "183204", "whole number"),
    Case("attachment size as float", A, "/attachments/0/size", 183204.0, "whole number"),
    Case("attachment size negative", A, "/attachments/0/size", -1, "at least 0"),
    Case(
        "attachment name with folder",
        A,
        "/attachments/0/name",
        "../../etc/passwd",
        "without folders",
    ),
    Case(
        "attachment media type parameters",
        A,
        "/attachments/0/media_type",
        "text/csv; charset=utf-8",
        "without parameters",
    ),
    Case(
        "too many attachments",
        A,
        "/attachments",
        [example(A)["attachments"][0]] * 21,
        "at most 20 items",
    ),
    # seizure
    Case("seizure date missing", S, "/seized_on", DELETE, "is required"),
    Case("seizure date with time", S, "/seized_on", "2024-05-25T10:00:00Z", "date written like"),
    Case("seizure place locode elsewhere", S, "/place/locode", "NGLOS", "in the country given"),
    Case("seized quantity missing", S, "/lines/0/quantity_seized", DELETE, "is required"),
    Case("seized quantity unit", S, "/lines/0/quantity_seized/unit", "LBR", UNITS),
    Case("arrests negative", S, "/arrests", -1, "at least 0"),
    Case("arrests as string", S, "/arrests", "2", "whole number"),
    Case("arrests as boolean", S, "/arrests", True, "whole number"),
    Case("action taken unknown", S, "/action_taken", "seized", ACTIONS),
    # notice
    Case("title in no language", N, "/title", {}, "English (en), French (fr) or both"),
    Case("title in German", N, "/title/de", "Warnung", "not an allowed field"),
    Case(
        "body missing French",
        N,
        "/body/fr",
        DELETE,
        "same languages as the title (en and fr)",
        pointer="/body",
    ),
    Case(
        "category unknown",
        N,
        "/category",
        "alert",
        "must be one of advisory, operation, training, trend, other",
    ),
    Case("regions missing", N, "/audience/regions", DELETE, "at least one region"),
    Case("regions empty", N, "/audience/regions", [], "at least one region"),
    Case(
        "region unknown",
        N,
        "/audience/regions/0",
        "AFR",
        "must be one of AMC, APC, ESA, EUR, MENA, WCA",
    ),
    Case("region twice", N, "/audience/regions", ["WCA", "WCA"], "each region once"),
    Case(
        "all members with regions",
        N,
        "/audience/scope",
        "all_members",
        "empty when scope is all_members",
        pointer="/audience/regions",
    ),
    Case("scope unknown", N, "/audience/scope", "members", "must be one of all_members, regions"),
    # rfi and reply
    Case(
        "priority unknown", Q, "/priority", "critical", "must be one of low, normal, high, urgent"
    ),
    Case("due with time", Q, "/due", "2024-05-31T00:00:00Z", "date written like"),
    Case("question missing", Q, "/question", DELETE, "is required"),
    Case("in reply to missing", R, "/in_reply_to", DELETE, "is required"),
    Case(
        "in reply to bare id",
        R,
        "/in_reply_to",
        "98446fcd-3bfe-4e7d-b988-68229123b934",
        "must be an object",
    ),
    # receipt
    Case("receipt version", C, "/v", "pgs/2", "must be pgs/1"),
    Case("receipt version missing", C, "/v", DELETE, "is required"),
    Case(
        "digest padded",
        C,
        "/envelope_sha256",
        "162n14LzvSAGRDSFybH2HTzgzFDjExNl4au9vHc1grc=",
        "without padding (43 characters)",
    ),
    Case(
        "digest non-canonical",
        C,
        "/envelope_sha256",
        "162n14LzvSAGRDSFybH2HTzgzFDjExNl4au9vHc1grd",
        "base64url without padding (43 characters)",
    ),
    Case(
        "digest hex",
        C,
        "/envelope_sha256",
        "764833fd284652ec1f1b9f60459c29748d3dbd0159c5353d6d07092b5156557c",
        "base64url",
    ),
    Case(
        "digest standard base64",
        C,
        "/envelope_sha256",
        "162n14LzvSAGRDSFybH2HTzgzFDjExNl4au9vHc1g+c",
        "base64url",
    ),
    Case("status unknown", C, "/status", "seen", "must be one of delivered, read"),
    Case("time with offset", C, "/at", "2024-05-21T09:15:02+01:00", "UTC date and time"),
    Case("time without zone", C, "/at", "2024-05-21T08:15:02", "UTC date and time"),
    Case("time as number", C, "/at", 1716279302, "UTC date and time"),
    Case("time impossible", C, "/at", "2024-05-21T25:15:02Z", "UTC date and time"),
    Case("by not a participant", C, "/by", "ghana", "participant id"),
    Case("mid missing", C, "/mid", DELETE, "is required"),
]


def test_case_names_are_unique() -> None:
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_invalid_content(case: Case) -> None:
    found = problems_of(case.kind, case.document())
    assert [p.pointer for p in found] == [case.expected_pointer], found
    assert case.says in found[0].message, found[0].message


@pytest.mark.parametrize("case", CASES[:20], ids=lambda c: c.name)
def test_invalid_content_as_bytes(case: Case) -> None:
    found = problems_of(case.kind, json.dumps(case.document()).encode())
    assert [p.pointer for p in found] == [case.expected_pointer]


# --- the error itself ----------------------------------------------------------------------------


def test_error_carries_code_kind_and_readable_text() -> None:
    doc = example(A)
    doc["lines"][0]["quantity"]["unit"] = "BAG"
    with pytest.raises(MessageValidationError) as caught:
        parse_message(A, doc)
    error = caught.value
    assert error.code == "message.invalid"
    assert error.kind == "alert"
    assert isinstance(error, InvalidDataError)
    assert isinstance(error, ProtocolError)
    assert error.problems == (FieldProblem("/lines/0/quantity/unit", UNITS),)
    assert str(error) == f"alert message is invalid: /lines/0/quantity/unit {UNITS}"


def test_every_problem_is_reported_in_document_order() -> None:
    doc = example(A)
    del doc["subject"]
    doc["lines"][0]["cas"] = "6484-52-3"
    doc["shipment"]["mode"] = "boat"
    doc["extra"] = True
    found = problems_of(A, doc)
    assert [p.pointer for p in found] == ["/subject", "/lines/0/cas", "/shipment/mode", "/extra"]


def test_many_problems_are_capped() -> None:
    doc = example(A)
    line = doc["lines"][0]
    doc["lines"] = [{**line, "cas": "1-1-1", "hs": "x"} for _ in range(50)]
    found = problems_of(A, doc)
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1] == FieldProblem("", "has 50 more problems")
    with pytest.raises(MessageValidationError) as caught:
        parse_message(A, doc)
    assert str(caught.value).endswith(f"and {MAX_PROBLEMS + 1 - 5} more")


def test_messages_never_echo_the_input() -> None:
    marker = "<script>alert(1)</script>"
    doc = example(A)
    doc["lines"][0]["quantity"]["unit"] = marker
    doc["lines"][0]["cas"] = marker
    doc["shipment"]["mode"] = marker
    doc["shipment"]["containers"] = [marker]
    doc["evaluation"]["source"] = marker
    doc["subject"] = marker + "\n"
    with pytest.raises(MessageValidationError) as caught:
        parse_message(A, doc)
    assert len(caught.value.problems) == 6
    assert marker not in str(caught.value)
    assert all(marker not in p.message for p in caught.value.problems)


# --- bytes that are not a JSON object ------------------------------------------------------------

BAD_BYTES = [
    ("not json", b"{subject: 1}", "is not valid JSON (line 1, column 2)"),
    ("empty", b"", "is not valid JSON"),
    ("array", b"[]", "must be a JSON object"),
    ("string", b'"alert"', "must be a JSON object"),
    ("duplicate member", b'{"subject": "a", "subject": "b"}', "duplicate JSON member"),
    ("nested duplicate", b'{"shipment": {"mode": "sea", "mode": "air"}}', "duplicate JSON member"),
    ("nan", b'{"subject": NaN}', "NaN is not allowed"),
    ("infinity", b'{"subject": -Infinity}', "Infinity is not allowed"),
    ("byte-order mark", b'\xef\xbb\xbf{"subject": "x"}', "byte-order mark"),
    ("latin-1", '{"subject": "Lomé"}'.encode("latin-1"), "is not UTF-8"),
    ("trailing data", b'{"subject": "x"} {}', "after the JSON value"),
    ("huge integer", b'{"subject": ' + b"9" * 5000 + b"}", "is not valid JSON"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
]


@pytest.mark.parametrize(
    ("data", "says"), [(d, s) for _, d, s in BAD_BYTES], ids=[n for n, _, _ in BAD_BYTES]
)
def test_bytes_that_are_not_one_json_object(data: bytes, says: str) -> None:
    found = problems_of(A, data)
    assert len(found) == 1
    assert found[0].pointer == ""
    assert says in found[0].message


def test_trailing_whitespace_is_fine() -> None:
    data = (VECTORS / "rfi.json").read_bytes() + b" \n\r\n\t"
    parse_message(Q, data)


def test_size_cap() -> None:
    data = (VECTORS / "rfi.json").read_bytes()
    assert parse_message(Q, data, max_bytes=len(data))
    with pytest.raises(MessageValidationError) as caught:
        parse_message(Q, data, max_bytes=len(data) - 1)
    assert caught.value.problems == (FieldProblem("", f"is larger than {len(data) - 1} bytes"),)


# --- translation of pydantic errors used elsewhere -----------------------------------------------


@pytest.mark.parametrize(
    ("location", "prefix", "pointer"),
    [
        ((), "", ""),
        ((), "/pgs", "/pgs"),
        (("lines", 0, "quantity", "unit"), "", "/lines/0/quantity/unit"),
        (("a/b", "m~n"), "", "/a~1b/m~0n"),
        (("to", 3, "kid"), "/pgs", "/pgs/to/3/kid"),
    ],
)
def test_json_pointer(location: tuple[str | int, ...], prefix: str, pointer: str) -> None:
    assert json_pointer(location, prefix) == pointer


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: float
    flag: bool


def test_plain_message_for_errors_our_models_do_not_raise() -> None:
    with pytest.raises(ValidationError) as caught:
        _Plain.model_validate({"number": "many", "flag": "perhaps"})
    assert problems_from(caught.value, prefix="/x") == [
        FieldProblem("/x/number", "must be a number"),
        FieldProblem("/x/flag", "must be true or false"),
    ]
