"""``ApiModel.wire_json`` (what the hub's handlers send, serialized by pydantic-core in one pass)
is the same JSON document as ``wire()`` (the dict the CLI prints and the stream sends): aliases,
``null`` kept, declared member order, any text, nested and discriminated lists."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.protocols import api

# Any Unicode a detail or an entry could carry: accents, quotes, backslashes, control characters,
# U+2028, astral planes (surrogates cannot be in a Python str sent as UTF-8).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
INTS = st.integers(min_value=0, max_value=2**53)


def _same(model: api.ApiModel) -> None:
    sent = model.wire_json()
    assert json.loads(sent) == model.wire()
    # Declared member order (json.loads keeps the order of the text).
    assert list(json.loads(sent)) == list(model.wire())
    assert sent.decode("utf-8")  # UTF-8 text


def _envelope_item(**changes: Any) -> api.EnvelopeItem:
    values: dict[str, Any] = {
        "cursor": 7, "type": "envelope", "mid": "m", "from": "GH-NCP-ACCRA", "kind": "alert",
        "tlp": "AMBER", "group": None, "size": 10, "envelope_sha256": "ab", "iat": 1, "exp": 2,
        "accepted_at": 1,
    }  # fmt: skip
    return api.EnvelopeItem.model_validate(values | changes)


def test_the_alias_and_nulls_are_as_wire_gives_them() -> None:
    item = _envelope_item()
    document = json.loads(item.wire_json())
    assert document["from"] == "GH-NCP-ACCRA"
    assert "sender" not in document
    assert document["group"] is None
    _same(item)


@given(TEXT, TEXT, st.lists(st.tuples(TEXT, TEXT), max_size=3) | st.none())
def test_a_problem_in_any_language_is_the_same_document(
    title: str, detail: str, errors: list[tuple[str, str]] | None
) -> None:
    problem = api.Problem(
        type="https://pgs.wcoomd.org/problems/x", title=title, status=400, detail=detail,
        code="x", errors=None if errors is None else [
            api.ProblemError(pointer=p or None, detail=d) for p, d in errors
        ],
    )  # fmt: skip
    _same(problem)


@settings(max_examples=50)
@given(st.lists(st.tuples(INTS, st.text("ABCxyz019-_", max_size=600)), max_size=50), INTS)
def test_a_page_of_log_entries_is_the_same_document(
    entries: list[tuple[int, str]], end: int
) -> None:
    page = api.LogEntries(
        start=0, end=end, entries=[api.LogEntry(index=i, entry=e) for i, e in entries]
    )
    _same(page)


@settings(max_examples=50)
@given(st.lists(st.tuples(INTS, st.binary(max_size=600)), max_size=30), INTS, INTS)
def test_a_page_of_log_entries_written_from_bytes_is_the_models_document_to_the_byte(
    entries: list[tuple[int, bytes]], start: int, end: int
) -> None:
    """What the hub sends for GET /v1/audit/entries (:class:`api.LogEntriesPage`, written
    straight from the entries' bytes) is exactly what the :class:`api.LogEntries` model of the
    same page serializes to, and the client's model reads it back to the same entries."""
    page = api.LogEntriesPage(start=start, end=end, entries=entries)
    model = page.to_model()
    assert page.wire_json() == model.wire_json()
    assert api.LogEntries.model_validate_json(page.wire_json()) == model
    assert [(e.index, b64u_decode(e.entry)) for e in model.entries] == entries


@given(st.lists(st.sampled_from(["envelope", "receipt"]), max_size=5), TEXT, INTS)
def test_an_inbox_page_of_both_kinds_of_item_is_the_same_document(
    kinds: list[str], text: str, cursor: int
) -> None:
    items: list[api.EnvelopeItem | api.ReceiptItem] = [
        _envelope_item(mid=text, group=text or None)
        if kind == "envelope"
        else api.ReceiptItem(
            cursor=1, type="receipt", mid=text, by="x", status="read", at=3, receipt=text
        )
        for kind in kinds
    ]
    page = api.InboxPage.model_validate({"items": items, "next": cursor})
    _same(page)
