"""Message content models: the example of every kind, the wire form, schemas and round trips."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pgs_hub.protocols.codelists import commodities, iso_countries, units, wco_regions
from pgs_hub.protocols.errors import MessageValidationError, ProtocolError, UnknownMessageKindError
from pgs_hub.protocols.messages import (
    MODELS,
    PROTOCOL,
    Action,
    Alert,
    Attachment,
    Audience,
    AudienceScope,
    CommodityLine,
    Concealment,
    ConcealmentMethod,
    DetectionMethod,
    Evaluation,
    InformationAccuracy,
    LocalizedBody,
    LocalizedTitle,
    Location,
    MessageKind,
    MessageRef,
    Notice,
    NoticeCategory,
    Party,
    PartyRole,
    Priority,
    Quantity,
    Receipt,
    ReceiptStatus,
    Reply,
    Rfi,
    RiskIndicator,
    Route,
    SeizedLine,
    Seizure,
    Shipment,
    SourceReliability,
    Tlp,
    TransportMode,
    all_schemas,
    encode_message,
    json_schema,
    model_for,
    parse_message,
)
from pgs_hub.protocols.messages.shipment import iso6346_check_digit

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "messages"


def vector_bytes(kind: MessageKind) -> bytes:
    return (VECTORS / f"{kind.value}.json").read_bytes()


def vector(kind: MessageKind) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(vector_bytes(kind))
    return loaded


# --- the examples --------------------------------------------------------------------------------


def test_every_kind_has_a_model_and_an_example() -> None:
    assert set(MODELS) == set(MessageKind)
    assert {p.stem for p in VECTORS.glob("*.json")} == {k.value for k in MessageKind}
    for kind, model in MODELS.items():
        assert model_for(kind) is model
        assert model_for(kind.value) is model
        assert model.kind is kind


@pytest.mark.parametrize("kind", list(MessageKind), ids=str)
def test_example_parses_from_bytes_and_from_mapping(kind: MessageKind) -> None:
    from_bytes = parse_message(kind, vector_bytes(kind))
    from_mapping = parse_message(kind.value, vector(kind))
    assert type(from_bytes) is MODELS[kind]
    assert from_bytes == from_mapping


@pytest.mark.parametrize("kind", list(MessageKind), ids=str)
def test_example_round_trips_through_the_wire_form(kind: MessageKind) -> None:
    message = parse_message(kind, vector_bytes(kind))
    wire = encode_message(message)
    assert parse_message(kind, wire) == message
    # The wire form is the example with nothing added but defaults and nothing lost.
    decoded = json.loads(wire)
    original = vector(kind)
    for key, value in original.items():
        assert decoded[key] == value, key
    assert set(decoded) - set(original) <= {
        name for name, field in MODELS[kind].model_fields.items() if not field.is_required()
    }


def test_alert_example_reads_as_expected() -> None:
    alert = parse_message(MessageKind.ALERT, vector_bytes(MessageKind.ALERT))
    assert isinstance(alert, Alert)
    line = alert.lines[0]
    assert line.commodity == "AN"
    assert line.quantity == Quantity(value=Decimal(24), unit="TNE")
    assert line.concentration == Decimal("98.5")
    route = alert.shipment.route
    assert (route.origin.locode, route.destination.locode) == ("NGLOS", "GHTEM")
    assert [t.locode for t in route.transit] == ["TGLFW"]
    assert alert.shipment.mode is TransportMode.SEA
    assert alert.concealment is not None
    assert alert.concealment.method is ConcealmentMethod.AMONG_OTHER_GOODS
    assert alert.action_requested is Action.HOLD
    assert alert.evaluation is not None
    assert alert.evaluation.code == "B2"


def test_seizure_example_reads_as_expected() -> None:
    seizure = parse_message(MessageKind.SEIZURE, vector_bytes(MessageKind.SEIZURE))
    assert seizure.seized_on == date(2024, 5, 25)
    assert seizure.place.country == "GH"
    assert seizure.lines[0].quantity_seized == Quantity(value=Decimal(23850), unit="KGM")
    assert seizure.arrests == 2
    assert seizure.references[0].kind is MessageKind.ALERT


def test_notice_example_is_bilingual_for_west_and_central_africa() -> None:
    notice = parse_message(MessageKind.NOTICE, vector_bytes(MessageKind.NOTICE))
    assert notice.title.languages == {"en", "fr"} == notice.body.languages
    assert notice.audience == Audience(scope=AudienceScope.REGIONS, regions=("WCA",))


def test_receipt_example_digest_is_base64url_sha256() -> None:
    receipt = parse_message(MessageKind.RECEIPT, vector_bytes(MessageKind.RECEIPT))
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"example envelope bytes").digest())
    assert receipt.envelope_sha256 == digest.rstrip(b"=").decode()
    assert receipt.v == PROTOCOL == "pgs/1"
    assert receipt.at == datetime(2024, 5, 21, 8, 15, 2, tzinfo=UTC)


# --- the wire form -------------------------------------------------------------------------------


def test_quantities_travel_as_json_numbers() -> None:
    wire = json.loads(encode_message(parse_message(MessageKind.ALERT, vector(MessageKind.ALERT))))
    assert wire["lines"][0]["quantity"] == {"value": 24, "unit": "TNE"}
    assert wire["lines"][0]["concentration"] == 98.5
    line = CommodityLine(
        commodity="AN",
        description="test",
        quantity=Quantity(value=Decimal("0.000001"), unit="KGM"),
    )
    assert json.loads(line.model_dump_json())["quantity"]["value"] == 1e-6


def test_absent_optional_values_are_left_out() -> None:
    rfi = Rfi(subject="s", question="q")
    assert json.loads(encode_message(rfi)) == {
        "subject": "s",
        "question": "q",
        "about": [],
        "priority": "normal",
        "attachments": [],
    }


def test_models_are_frozen_and_hashable() -> None:
    quantity = Quantity(value=Decimal(1), unit="KGM")
    with pytest.raises(ValidationError):
        quantity.unit = "TNE"  # type: ignore[misc]
    assert hash(quantity) == hash(Quantity(value=Decimal("1.0"), unit="KGM"))
    alert = parse_message(MessageKind.ALERT, vector_bytes(MessageKind.ALERT))
    assert isinstance(alert.lines, tuple)
    assert isinstance(alert.shipment.containers, tuple)


def test_content_carries_no_routing_data() -> None:
    routing = {"sender", "from", "to", "recipients", "tlp", "handling", "iat", "exp", "thread"}
    for kind, model in MODELS.items():
        names = set(model.model_fields)
        assert not names & routing, kind
        if kind is not MessageKind.RECEIPT:
            assert "mid" not in names, kind


def test_tlp_wire_values() -> None:
    assert [t.value for t in Tlp] == ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]


def test_evaluation_scales() -> None:
    assert [s.value for s in SourceReliability] == ["A", "B", "C", "X"]
    assert [a.value for a in InformationAccuracy] == ["1", "2", "3", "4"]
    evaluation = Evaluation(
        source=SourceReliability.X, information=InformationAccuracy.UNCORROBORATED
    )
    assert evaluation.code == "X4"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(UnknownMessageKindError) as caught:
        parse_message("memo", b"{}")
    assert caught.value.code == "message.unknown_kind"
    assert isinstance(caught.value, ProtocolError)
    with pytest.raises(UnknownMessageKindError):
        json_schema("memo")


def test_a_valid_message_of_one_kind_is_not_another() -> None:
    with pytest.raises(MessageValidationError):
        parse_message(MessageKind.RFI, vector_bytes(MessageKind.ALERT))


# --- ISO 6346 ------------------------------------------------------------------------------------

# Letter values from the ISO 6346 table, written out here so the test does not share the code's
# way of building it.
ISO6346_LETTERS = {
    "A": 10, "B": 12, "C": 13, "D": 14, "E": 15, "F": 16, "G": 17, "H": 18, "I": 19,
    "J": 20, "K": 21, "L": 23, "M": 24, "N": 25, "O": 26, "P": 27, "Q": 28, "R": 29,
    "S": 30, "T": 31, "U": 32, "V": 34, "W": 35, "X": 36, "Y": 37, "Z": 38,
}  # fmt: skip


def reference_check_digit(first_ten: str) -> int:
    values = [int(c) if c.isdigit() else ISO6346_LETTERS[c] for c in first_ten]
    return sum(v * 2**i for i, v in enumerate(values)) % 11 % 10


@pytest.mark.parametrize(
    ("number", "check"),
    [("CSQU305438", 3), ("GSHU412057", 4), ("GSHU412061", 4), ("MRKU771934", 5)],
)
def test_iso6346_known_answers(number: str, check: int) -> None:
    assert iso6346_check_digit(number) == check == reference_check_digit(number)


@given(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    st.sampled_from("UJZ"),
    st.text("0123456789", min_size=6, max_size=6),
)
def test_iso6346_matches_reference(owner: str, category: str, serial: str) -> None:
    first_ten = owner + category + serial
    assert iso6346_check_digit(first_ten) == reference_check_digit(first_ten)


# --- JSON Schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MessageKind), ids=str)
def test_schema_has_id_title_and_dialect(kind: MessageKind) -> None:
    schema = json_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://pgs.wcoomd.org/schemas/pgs-1/{kind.value}.json"
    assert schema["title"].endswith("(pgs/1)")
    assert schema["description"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # plain JSON, ready to be written to a file


def test_all_schemas_covers_every_kind() -> None:
    schemas = all_schemas()
    assert list(schemas) == list(MessageKind)
    assert schemas[MessageKind.ALERT] == json_schema("alert")


def test_schema_lists_code_list_values() -> None:
    defs = json_schema(MessageKind.ALERT)["$defs"]
    assert defs["Quantity"]["properties"]["unit"]["enum"] == list(units())
    assert defs["CommodityLine"]["properties"]["commodity"]["enum"] == list(commodities())
    assert defs["Quantity"]["properties"]["value"]["type"] == "number"


@pytest.mark.parametrize("kind", list(MessageKind), ids=str)
def test_example_validates_against_schema(kind: MessageKind) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(vector(kind))


SCHEMA_REJECTS = [
    (MessageKind.ALERT, ("sender",), "NG-NCP-LAGOS"),
    (MessageKind.ALERT, ("lines", 0, "quantity", "unit"), "BAG"),
    (MessageKind.ALERT, ("lines", 0, "quantity", "value"), "24"),
    (MessageKind.ALERT, ("shipment", "containers", 0), "GSHU 412057 4"),
    (MessageKind.ALERT, ("shipment", "containers", 1), "GSHU4120574"),
    (MessageKind.NOTICE, ("title",), {}),
    (MessageKind.NOTICE, ("audience",), {"scope": "regions"}),
    (MessageKind.NOTICE, ("audience",), {"scope": "all_members", "regions": ["WCA"]}),
    (MessageKind.RECEIPT, ("at",), "2024-05-21T08:15:02+00:00"),
]


@pytest.mark.parametrize(
    ("kind", "path", "value"), SCHEMA_REJECTS, ids=lambda v: str(v) if isinstance(v, str) else None
)
def test_schema_rejects_what_the_model_rejects(
    kind: MessageKind, path: tuple[str | int, ...], value: Any
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = vector(kind)
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(MessageValidationError):
        parse_message(kind, doc)
    assert not jsonschema.Draft202012Validator(json_schema(kind)).is_valid(doc)


# --- property: built values survive the wire ----------------------------------------------------

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cas(body: str) -> str:
    digits = body.replace("-", "")
    check = sum(w * int(d) for w, d in enumerate(reversed(digits), start=1)) % 10
    return f"{body}-{check}"


def _one_line(max_size: int) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=max_size
    ).filter(lambda s: not s.isspace())


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(exclude_categories=("Cc", "Cs"), include_characters="\n\t"),
        min_size=1,
        max_size=max_size,
    ).filter(lambda s: not s.isspace())


countries = st.sampled_from(sorted(iso_countries()))
locode_tail = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789", min_size=3, max_size=3)
cas_numbers = st.builds(
    lambda head, mid: _cas(f"{head}-{mid}"),
    st.integers(10, 9_999_999).map(str),
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
)
un_numbers = st.integers(1, 9999).map(lambda n: f"{n:04d}")
hs_codes = st.builds(
    lambda chapter, rest: f"{chapter:02d}{rest // 100:02d}.{rest % 100:02d}",
    st.integers(1, 97).filter(lambda c: c != 77),
    st.integers(0, 9999),
)
containers = st.builds(
    lambda owner, cat, serial: (
        owner + cat + serial + str(reference_check_digit(owner + cat + serial))
    ),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    st.sampled_from("UJZ"),
    st.text("0123456789", min_size=6, max_size=6),
)
amounts = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("999999999"), places=6, allow_nan=False
)
percentages = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)
message_ids = st.uuids(version=4).map(str)
participant_ids = st.builds(
    lambda head, parts: "-".join([head, *parts]),
    st.one_of(countries, st.just("WCO")),
    st.lists(
        # three parts of at most 19 keep the id within its 64 characters ("WCO" + 3 x "-" + 19)
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=19),
        min_size=1,
        max_size=3,
    ),
)
sha256_hex = st.binary(min_size=32, max_size=32).map(bytes.hex)
utc_times = st.datetimes(timezones=st.just(UTC))


@st.composite
def locations(draw: st.DrawFn) -> Location:
    country = draw(countries)
    locode = draw(st.none() | locode_tail.map(lambda tail: country + tail))
    return Location(country=country, locode=locode, description=draw(st.none() | _one_line(200)))


quantities = st.builds(Quantity, value=amounts, unit=st.sampled_from(sorted(units())))
line_fields: dict[str, st.SearchStrategy[Any]] = {
    "commodity": st.sampled_from(sorted(commodities())),
    "description": _text(300),
    "quantity": quantities,
    "hs": st.none() | hs_codes,
    "cas": st.none() | cas_numbers,
    "un_number": st.none() | un_numbers,
    "concentration": st.none() | percentages,
}
commodity_lines = st.builds(CommodityLine, **line_fields)
seized_lines = st.builds(SeizedLine, **line_fields, quantity_seized=quantities)
parties = st.builds(
    Party,
    role=st.sampled_from(PartyRole),
    name=_one_line(200),
    address=st.none() | _text(200),
    country=st.none() | countries,
    identifier=st.none() | _one_line(64),
)
message_refs = st.builds(MessageRef, mid=message_ids, kind=st.none() | st.sampled_from(MessageKind))
attachments = st.builds(
    Attachment,
    name=_one_line(100).filter(lambda s: "/" not in s and "\\" not in s and s not in {".", ".."}),
    media_type=st.sampled_from(["application/pdf", "image/jpeg", "text/csv", "application/zip"]),
    size=st.integers(0, 2**40),
    sha256=sha256_hex,
)
evaluations = st.builds(
    Evaluation,
    source=st.sampled_from(SourceReliability),
    information=st.sampled_from(InformationAccuracy),
)
indicators = st.builds(
    RiskIndicator,
    text=_text(200),
    code=st.none() | st.from_regex(r"[A-Z0-9][A-Z0-9._-]{0,31}", fullmatch=True),
)
concealments = st.builds(
    Concealment, method=st.sampled_from(ConcealmentMethod), details=st.none() | _text(200)
)


@st.composite
def shipments(draw: st.DrawFn) -> Shipment:
    departure = draw(st.none() | st.dates())
    arrival = draw(st.none() | st.dates(min_value=departure or date.min))
    return Shipment(
        mode=draw(st.sampled_from(TransportMode)),
        route=Route(
            origin=draw(locations()),
            transit=tuple(draw(st.lists(locations(), max_size=3))),
            destination=draw(locations()),
        ),
        conveyance=draw(st.none() | _one_line(200)),
        voyage=draw(st.none() | _one_line(64)),
        transport_document=draw(st.none() | _one_line(64)),
        containers=tuple(draw(st.lists(containers, max_size=4, unique=True))),
        departure=departure,
        arrival=arrival,
    )


def _tuples(strategy: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return st.lists(strategy, max_size=max_size).map(tuple)


alerts = st.builds(
    Alert,
    subject=_one_line(200),
    narrative=st.none() | _text(1000),
    lines=st.lists(commodity_lines, min_size=1, max_size=3).map(tuple),
    shipment=shipments(),
    parties=_tuples(parties),
    risk_indicators=_tuples(indicators),
    detection=st.none() | st.sampled_from(DetectionMethod),
    concealment=st.none() | concealments,
    action_requested=st.sampled_from(Action),
    evaluation=st.none() | evaluations,
    references=_tuples(message_refs),
    attachments=_tuples(attachments),
)
seizures = st.builds(
    Seizure,
    subject=_one_line(200),
    narrative=st.none() | _text(1000),
    seized_on=st.dates(),
    place=locations(),
    lines=st.lists(seized_lines, min_size=1, max_size=3).map(tuple),
    shipment=st.none() | shipments(),
    parties=_tuples(parties),
    risk_indicators=_tuples(indicators),
    detection=st.none() | st.sampled_from(DetectionMethod),
    concealment=st.none() | concealments,
    action_taken=st.sampled_from(Action),
    arrests=st.none() | st.integers(0, 10_000),
    follow_up=st.none() | _text(500),
    case_reference=st.none() | _one_line(64),
    evaluation=st.none() | evaluations,
    references=_tuples(message_refs),
    attachments=_tuples(attachments),
)


@st.composite
def notices(draw: st.DrawFn) -> Notice:
    languages = draw(st.sampled_from([("en",), ("fr",), ("en", "fr")]))
    title = {lang: draw(_one_line(200)) for lang in languages}
    body = {lang: draw(_text(2000)) for lang in languages}
    scope = draw(st.sampled_from(AudienceScope))
    regions: tuple[str, ...] = ()
    if scope is AudienceScope.REGIONS:
        regions = tuple(
            draw(st.lists(st.sampled_from(sorted(wco_regions())), min_size=1, unique=True))
        )
    return Notice(
        category=draw(st.sampled_from(NoticeCategory)),
        title=LocalizedTitle(**title),
        body=LocalizedBody(**body),
        audience=Audience(scope=scope, regions=regions),
        valid_until=draw(st.none() | st.dates()),
        references=draw(_tuples(message_refs)),
        attachments=draw(_tuples(attachments)),
    )


rfis = st.builds(
    Rfi,
    subject=_one_line(200),
    question=_text(2000),
    about=_tuples(message_refs),
    due=st.none() | st.dates(),
    priority=st.sampled_from(Priority),
    attachments=_tuples(attachments),
)
replies = st.builds(
    Reply,
    in_reply_to=message_refs,
    subject=st.none() | _one_line(200),
    answer=_text(2000),
    evaluation=st.none() | evaluations,
    references=_tuples(message_refs),
    attachments=_tuples(attachments),
)
receipts = st.builds(
    Receipt,
    v=st.just(PROTOCOL),
    mid=message_ids,
    envelope_sha256=st.binary(min_size=32, max_size=32).map(
        lambda d: base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    ),
    status=st.sampled_from(ReceiptStatus),
    at=utc_times,
    by=participant_ids,
)

STRATEGIES: dict[MessageKind, st.SearchStrategy[Any]] = {
    MessageKind.ALERT: alerts,
    MessageKind.SEIZURE: seizures,
    MessageKind.NOTICE: notices(),
    MessageKind.RFI: rfis,
    MessageKind.REPLY: replies,
    MessageKind.RECEIPT: receipts,
}


@pytest.mark.parametrize("kind", list(MessageKind), ids=str)
def test_built_messages_survive_the_wire(kind: MessageKind) -> None:
    @SETTINGS
    @given(STRATEGIES[kind])
    def round_trip(message: Any) -> None:
        wire = encode_message(message)
        assert parse_message(kind, wire) == message
        assert parse_message(kind, json.loads(wire)) == message
        assert encode_message(parse_message(kind, wire)) == wire

    round_trip()


@SETTINGS
@given(utc_times)
def test_utc_times_are_written_with_z(at: datetime) -> None:
    wire = Receipt(
        v=PROTOCOL,
        mid="caf8fc4b-7484-4a8c-bd69-9dbad9f5e04f",
        envelope_sha256="162n14LzvSAGRDSFybH2HTzgzFDjExNl4au9vHc1grc",
        status=ReceiptStatus.DELIVERED,
        at=at,
        by="WCO-PGS",
    ).model_dump(mode="json")
    assert wire["at"].endswith("Z")
    assert datetime.fromisoformat(wire["at"]) == at
    assert at.utcoffset() == timedelta(0)
