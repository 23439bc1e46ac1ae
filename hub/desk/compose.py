"""Guided forms: form fields to message content, validated by the protocol's own models, and
every problem put back at the field it concerns, in plain words.

Pure: a dict of form values in; content (a dict the protocol model accepts), routing choices and
problems out. :func:`check` runs :func:`protocols.messages.registry.parse_message`, the very
validation the hub's recipients apply, so a form the desk accepts is a message they accept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pgs_hub.hub.desk.i18n import N_
from pgs_hub.protocols.errors import MessageValidationError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message

FORM_KINDS: Final = ("alert", "seizure", "rfi", "reply", "notice")

#: Form field -> JSON Pointer of the content member it fills.
POINTERS: Final = {
    "subject": "/subject", "narrative": "/narrative",
    "commodity": "/lines/0/commodity", "description": "/lines/0/description",
    "quantity": "/lines/0/quantity/value", "unit": "/lines/0/quantity/unit",
    "hs": "/lines/0/hs", "cas": "/lines/0/cas", "un_number": "/lines/0/un_number",
    "quantity_seized": "/lines/0/quantity_seized/value",
    "seized_unit": "/lines/0/quantity_seized/unit",
    "mode": "/shipment/mode",
    "origin_country": "/shipment/route/origin/country",
    "origin_locode": "/shipment/route/origin/locode",
    "destination_country": "/shipment/route/destination/country",
    "destination_locode": "/shipment/route/destination/locode",
    "conveyance": "/shipment/conveyance", "transport_document": "/shipment/transport_document",
    "containers": "/shipment/containers",
    "action_requested": "/action_requested", "action_taken": "/action_taken",
    "detection": "/detection",
    "eval_source": "/evaluation/source", "eval_information": "/evaluation/information",
    "seized_on": "/seized_on", "place_country": "/place/country", "place_locode": "/place/locode",
    "arrests": "/arrests", "case_reference": "/case_reference",
    "question": "/question", "due": "/due", "priority": "/priority", "answer": "/answer",
    "category": "/category", "title_en": "/title/en", "title_fr": "/title/fr",
    "body_en": "/body/en", "body_fr": "/body/fr", "scope": "/audience/scope",
    "regions": "/audience/regions",
}  # fmt: skip
#: Whole objects whose problems belong to one of their fields.
_PARENTS: Final = {
    "/lines/0/quantity": "quantity", "/lines/0/quantity_seized": "quantity_seized",
    "/lines": "commodity", "/shipment/route/origin": "origin_country",
    "/shipment/route/destination": "destination_country", "/shipment": "mode",
    "/evaluation": "eval_source", "/place": "place_country", "/title": "title_en",
    "/body": "body_en", "/audience": "scope",
}  # fmt: skip

#: What each field wants, in plain words: shown at the field when its value is refused.
HINTS: Final = {
    "to": N_("Choose at least one recipient or a group."),
    "tlp": N_("TLP:RED goes only to named people: choose recipients, not a group."),
    "subject": N_("Write a subject of one line (at most 200 characters)."),
    "narrative": N_("Describe what happened in plain words."),
    "commodity": N_("Choose a commodity from the list, such as AN for ammonium nitrate."),
    "description": N_("Describe the goods as declared and as found."),
    "quantity": N_("Enter a quantity greater than zero, such as 24 or 1.5."),
    "unit": N_("Choose a unit from the list, such as TNE for tonne."),
    "hs": N_("Enter an HS code of six digits written like 3102.30, or leave it empty."),
    "cas": N_("Enter a CAS number like 6484-52-2 (its check digit must match), or leave it empty."),
    "un_number": N_("Enter a UN number of four digits like 1942, or leave it empty."),
    "quantity_seized": N_("Enter the quantity seized, greater than zero."),
    "seized_unit": N_("Choose the unit of the quantity seized."),
    "mode": N_("Choose how the goods travel."),
    "origin_country": N_("Choose the country the goods come from."),
    "origin_locode": N_("Enter a UN/LOCODE of five characters in the origin country, like NGLOS."),
    "destination_country": N_("Choose the country the goods go to."),
    "destination_locode": N_(
        "Enter a UN/LOCODE of five characters in the destination country, like GHTEM."
    ),
    "conveyance": N_("Write the vessel, aircraft or vehicle on one line."),
    "transport_document": N_("Write the document number without spaces."),
    "containers": N_(
        "Enter container numbers like CSQU3054383 (four letters, seven digits, valid check"
        " digit), separated by spaces, each once."
    ),
    "action_requested": N_("Choose what you ask the recipients to do."),
    "action_taken": N_("Choose what was done."),
    "detection": N_("Choose how the goods came to notice, or leave it empty."),
    "eval_source": N_("Choose both halves of the evaluation, or neither."),
    "eval_information": N_("Choose both halves of the evaluation, or neither."),
    "seized_on": N_("Enter the date of the seizure."),
    "place_country": N_("Choose the country of the seizure."),
    "place_locode": N_("Enter a UN/LOCODE of five characters in that country, like GHTEM."),
    "arrests": N_("Enter a whole number of arrests, or leave it empty."),
    "case_reference": N_("Write the case number without spaces."),
    "question": N_("Write your question."),
    "due": N_("Enter a date, or leave it empty."),
    "priority": N_("Choose a priority."),
    "answer": N_("Write your answer."),
    "category": N_("Choose a category."),
    "title_en": N_("Give the title and the text in the same languages (English, French or both)."),
    "title_fr": N_("Give the title and the text in the same languages (English, French or both)."),
    "body_en": N_("Give the title and the text in the same languages (English, French or both)."),
    "body_fr": N_("Give the title and the text in the same languages (English, French or both)."),
    "scope": N_("Choose all members, or one or more regions."),
    "regions": N_("Choose at least one region when the notice is for regions, none otherwise."),
    "": N_("The message is not complete."),
}  # fmt: skip

_MID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

Form = dict[str, Any]


@dataclass
class Checked:
    """A form checked: the content when valid, else the fields in error, in form order."""

    content: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form: Form, name: str) -> str | None:
    value = form.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def _number(text: str | None) -> object:
    if text is None:
        return None
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return text  # refused by the model, at this field


def _drop_empty(value: object) -> object:
    if isinstance(value, dict):
        kept = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _line(form: Form, *, seized: bool) -> dict[str, Any]:
    line: dict[str, Any] = {
        "commodity": _text(form, "commodity"), "description": _text(form, "description"),
        "quantity": {"value": _number(_text(form, "quantity")), "unit": _text(form, "unit")},
        "hs": _text(form, "hs"), "cas": _text(form, "cas"), "un_number": _text(form, "un_number"),
    }  # fmt: skip
    if seized:
        line["quantity_seized"] = {
            "value": _number(_text(form, "quantity_seized")),
            "unit": _text(form, "seized_unit") or _text(form, "unit"),
        }
    return line


def _shipment(form: Form) -> dict[str, Any]:
    containers = (_text(form, "containers") or "").replace(",", " ").upper().split()
    return {
        "mode": _text(form, "mode"),
        "route": {
            "origin": {
                "country": _text(form, "origin_country"),
                "locode": _text(form, "origin_locode"),
            },
            "destination": {
                "country": _text(form, "destination_country"),
                "locode": _text(form, "destination_locode"),
            },
        },
        "conveyance": _text(form, "conveyance"),
        "transport_document": _text(form, "transport_document"),
        "containers": containers,
    }


def _evaluation(form: Form) -> dict[str, Any] | None:
    source, info = _text(form, "eval_source"), _text(form, "eval_information")
    if source is None and info is None:
        return None
    return {"source": source, "information": info}


def _references(form: Form) -> list[dict[str, Any]]:
    irt = _text(form, "irt")
    if irt is None or not _MID.match(irt):
        return []
    kind = _text(form, "irt_kind")
    return (
        [{"mid": irt, "kind": kind}] if kind in {k.value for k in MessageKind} else [{"mid": irt}]
    )


def content_of(kind: str, form: Form) -> dict[str, Any]:
    """The content a form describes (empty fields left out), before validation."""
    common = {"subject": _text(form, "subject"), "narrative": _text(form, "narrative")}
    if kind == "alert":
        doc: dict[str, Any] = common | {
            "lines": [_line(form, seized=False)], "shipment": _shipment(form),
            "action_requested": _text(form, "action_requested"),
            "detection": _text(form, "detection"), "evaluation": _evaluation(form),
            "references": _references(form),
        }  # fmt: skip
    elif kind == "seizure":
        shipment = _shipment(form)
        has_shipment = _text(form, "mode") is not None
        doc = common | {
            "seized_on": _text(form, "seized_on"),
            "place": {"country": _text(form, "place_country"),
                      "locode": _text(form, "place_locode")},
            "lines": [_line(form, seized=True)],
            "shipment": shipment if has_shipment else None,
            "action_taken": _text(form, "action_taken"), "detection": _text(form, "detection"),
            "arrests": _number(_text(form, "arrests")),
            "case_reference": _text(form, "case_reference"), "evaluation": _evaluation(form),
            "references": _references(form),
        }  # fmt: skip
    elif kind == "rfi":
        doc = {
            "subject": _text(form, "subject"), "question": _text(form, "question"),
            "due": _text(form, "due"), "priority": _text(form, "priority"),
            "about": _references(form),
        }  # fmt: skip
    elif kind == "reply":
        refs = _references(form)
        doc = {
            "in_reply_to": refs[0] if refs else {"mid": _text(form, "irt")},
            "subject": _text(form, "subject"), "answer": _text(form, "answer"),
            "evaluation": _evaluation(form),
        }  # fmt: skip
    elif kind == "notice":
        regions = form.get("regions") or []
        regions = [regions] if isinstance(regions, str) else list(regions)
        doc = {
            "category": _text(form, "category"),
            "title": {"en": _text(form, "title_en"), "fr": _text(form, "title_fr")},
            "body": {"en": _text(form, "body_en"), "fr": _text(form, "body_fr")},
            "audience": {"scope": _text(form, "scope"), "regions": regions},
            "valid_until": _text(form, "valid_until"),
        }  # fmt: skip
    else:
        raise ValueError(kind)
    cleaned = _drop_empty(doc)
    assert isinstance(cleaned, dict)  # noqa: S101 - _drop_empty keeps a dict a dict
    return cleaned


def field_of(pointer: str) -> str:
    """The form field a problem at ``pointer`` belongs to ("" for the message as a whole)."""
    best, length = "", -1
    for name, target in POINTERS.items():
        if (pointer == target or pointer.startswith(target + "/")) and len(target) > length:
            best, length = name, len(target)
    if best:
        return best
    for parent, name in _PARENTS.items():
        if pointer == parent or pointer.startswith(parent + "/"):
            return name
    return ""


def recipients(form: Form) -> list[str]:
    chosen = form.get("to") or []
    return [str(p) for p in ([chosen] if isinstance(chosen, str) else chosen) if p]


def check(kind: str, form: Form, *, attachments: Sequence[dict[str, Any]] = ()) -> Checked:
    """Validate a form as a ``kind`` message with the protocol's model, and its routing."""
    content = content_of(kind, form)
    if attachments:
        content["attachments"] = list(attachments)
    checked = Checked(content)
    group = _text(form, "group")
    if not recipients(form) and group is None:
        checked.errors["to"] = HINTS["to"]
    if group is not None and _text(form, "tlp") == Tlp.RED.value:
        checked.errors["tlp"] = HINTS["tlp"]
    try:
        parse_message(MessageKind(kind), json.dumps(content).encode("utf-8"))
    except MessageValidationError as exc:
        for problem in exc.problems:
            name = field_of(problem.pointer)
            checked.errors.setdefault(name, HINTS.get(name, HINTS[""]))
            checked.detail.setdefault(name, problem.message)
    return checked


def prefill(kind: str, source: dict[str, Any] | None, *, me: str, today: dt.date) -> Form:
    """The form of a ``kind`` message answering ``source`` (a thread message as
    ``{mid, kind, sender, thread, subject, content}``), or a blank one."""
    country = me[:2] if me[:2].isalpha() and me[:2].isupper() else ""
    form: Form = {"tlp": Tlp.AMBER.value}
    if kind == "seizure":
        form |= {"seized_on": today.isoformat(), "place_country": country,
                 "action_taken": "seize"}  # fmt: skip
    if kind == "rfi":
        form |= {"priority": "normal"}
    if kind == "notice":
        form |= {"category": "advisory", "scope": "regions"}
    if kind == "alert":
        form |= {"action_requested": "inspect", "origin_country": country}
    if source is None:
        return form
    subject = str(source.get("subject") or "")
    prefix = "Re: "
    form |= {
        "to": [source["sender"], *[p for p in source.get("to", []) if p.startswith("WCO-")]],
        "thread": source["thread"], "irt": source["mid"],
        "irt_kind": source["kind"], "tlp": source.get("tlp", Tlp.AMBER.value),
        "subject": subject if subject.startswith(prefix) else f"{prefix}{subject}"[:200],
    }  # fmt: skip
    lines = source.get("content", {}).get("lines") or []
    if kind == "seizure":
        form["detection"] = "pgs_alert" if source["kind"] == "alert" else ""
        if lines:
            first = lines[0]
            quantity = first.get("quantity") or {}
            form |= {
                "commodity": first.get("commodity", ""),
                "description": first.get("description", ""),
                "quantity": str(quantity.get("value", "")), "unit": quantity.get("unit", ""),
                "quantity_seized": str(quantity.get("value", "")),
                "seized_unit": quantity.get("unit", ""), "hs": first.get("hs", ""),
                "cas": first.get("cas", ""), "un_number": first.get("un_number", ""),
            }  # fmt: skip
        route = (source.get("content", {}).get("shipment") or {}).get("route") or {}
        destination = route.get("destination") or {}
        if destination.get("country") == country and destination.get("locode"):
            form["place_locode"] = destination["locode"]
    return form
