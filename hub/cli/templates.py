"""``pgs new KIND``: a filled-in message to edit, or the same asked field by field.

A template is valid against the protocol model of its kind except for the values the officer must
write (marked ``CHANGE-ME``); codes carry working examples (``AN``, ``TNE``, ``NG``) to replace.
JSON has no comments, so the explanation is printed beside the file, and ``pgs send`` and
``pgs validate`` refuse a message that still holds a ``CHANGE-ME`` value, naming where.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from pgs_hub.hub.cli.common import fail, out, say
from pgs_hub.hub.cli.errors import LANG_OPTION

PLACEHOLDER = "CHANGE-ME"
TEMPLATE_KINDS = ("alert", "seizure", "rfi", "reply", "notice")


def _mark(hint: str) -> str:
    return f"{PLACEHOLDER}: {hint}"


def template(kind: str, *, today: dt.date, in_reply_to: str | None = None) -> dict[str, Any]:
    """The filled-in content of a ``kind`` message."""
    line = {
        "commodity": "AN",
        "description": _mark("the goods as declared and as found"),
        "quantity": {"value": 24, "unit": "TNE"},
        "hs": "3102.30",
    }
    shipment = {
        "mode": "sea",
        "route": {"origin": {"country": "NG"}, "destination": {"country": "GH"}},
        "transport_document": _mark("bill of lading number"),
    }
    if kind == "alert":
        return {
            "subject": _mark("one line: what, how much, from where to where"),
            "narrative": _mark("why this shipment is suspicious, in a few sentences"),
            "lines": [line],
            "shipment": shipment,
            "action_requested": "inspect",
            "evaluation": {"source": "B", "information": "2"},
        }
    if kind == "seizure":
        return {
            "subject": _mark("one line: what was seized, where"),
            "narrative": _mark("what happened"),
            "seized_on": today.isoformat(),
            "place": {"country": "GH", "locode": "GHTEM"},
            "lines": [line | {"quantity_seized": {"value": 24, "unit": "TNE"}}],
            "action_taken": "seize",
            "detection": "pgs_alert",
        }
    if kind == "rfi":
        return {
            "subject": _mark("one line: what you want to know"),
            "question": _mark("your question, with what you already know"),
            "due": (today + dt.timedelta(days=7)).isoformat(),
            "priority": "normal",
        }
    if kind == "reply":
        return {
            "in_reply_to": {"mid": in_reply_to or _mark("id of the message you answer")},
            "subject": _mark("one line"),
            "answer": _mark("your answer"),
        }
    if kind == "notice":
        return {
            "category": "advisory",
            "title": {"en": _mark("title in English"), "fr": _mark("titre en français")},
            "body": {"en": _mark("text in English"), "fr": _mark("texte en français")},
            "audience": {"scope": "regions", "regions": ["WCA"]},
        }
    raise ValueError(kind)  # pragma: no cover - click limits the choice


def placeholders(doc: object, pointer: str = "") -> Iterator[str]:
    """The JSON Pointers of every value that still holds a ``CHANGE-ME`` mark."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from placeholders(value, f"{pointer}/{key}")
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from placeholders(value, f"{pointer}/{index}")
    elif isinstance(doc, str) and PLACEHOLDER in doc:
        yield pointer


def refuse_placeholders(doc: object) -> None:
    """One plain error when a message still holds template marks."""
    left = list(placeholders(doc))
    if left:
        fail(say("cli.new.unfilled", n=len(left), where=", ".join(left)))


# --- asked field by field ----------------------------------------------------------------------


def _choices(values: list[str]) -> str:
    return ", ".join(values)


def _ask(key: str, default: object | None = None, **values: object) -> str:
    answer = click.prompt(say(key, **values), default=default, err=True)
    return str(answer).strip()


def _number(text: str) -> int | float:
    try:
        number = float(text)
    except ValueError:
        return 0
    return int(number) if number.is_integer() else number


def _goods() -> dict[str, Any]:
    from pgs_hub.protocols.codelists import commodities, units

    commodity = _ask("cli.new.ask.commodity", "AN", choices=_choices(list(commodities())))
    description = _ask("cli.new.ask.description")
    quantity = _number(_ask("cli.new.ask.quantity", "1"))
    unit = _ask("cli.new.ask.unit", "KGM", choices=_choices(list(units())))
    return {
        "commodity": commodity.upper(),
        "description": description,
        "quantity": {"value": quantity, "unit": unit.upper()},
    }


def _regions() -> dict[str, Any]:
    from pgs_hub.protocols.codelists import wco_regions

    answer = _ask("cli.new.ask.regions", "ALL", choices=_choices(list(wco_regions())))
    if answer.upper() == "ALL":
        return {"scope": "all_members"}
    return {"scope": "regions", "regions": [r.strip().upper() for r in answer.split(",")]}


def ask(kind: str, *, today: dt.date, in_reply_to: str | None) -> dict[str, Any]:
    """The content of a ``kind`` message, asked on the terminal."""
    from pgs_hub.protocols.messages.enforcement import Action
    from pgs_hub.protocols.messages.notice import NoticeCategory
    from pgs_hub.protocols.messages.shipment import TransportMode

    actions = _choices([a.value for a in Action])
    if kind == "alert":
        doc: dict[str, Any] = {"subject": _ask("cli.new.ask.subject"), "lines": [_goods()]}
        doc["shipment"] = {
            "mode": _ask(
                "cli.new.ask.mode", "sea", choices=_choices([m.value for m in TransportMode])
            ),
            "route": {
                "origin": {"country": _ask("cli.new.ask.origin").upper()},
                "destination": {"country": _ask("cli.new.ask.destination").upper()},
            },
        }
        doc["action_requested"] = _ask("cli.new.ask.action", "inspect", choices=actions)
        return doc
    if kind == "seizure":
        subject = _ask("cli.new.ask.subject")
        seized_on = _ask("cli.new.ask.seized_on", today.isoformat())
        place = {"country": _ask("cli.new.ask.place").upper()}
        goods = _goods()
        goods["quantity_seized"] = dict(goods["quantity"])
        action = _ask("cli.new.ask.action", "seize", choices=actions)
        return {
            "subject": subject,
            "seized_on": seized_on,
            "place": place,
            "lines": [goods],
            "action_taken": action,
        }
    if kind == "rfi":
        return {"subject": _ask("cli.new.ask.subject"), "question": _ask("cli.new.ask.question")}
    if kind == "reply":
        return {
            "in_reply_to": {"mid": in_reply_to or _ask("cli.new.ask.in_reply_to")},
            "answer": _ask("cli.new.ask.answer"),
        }
    category = _ask(
        "cli.new.ask.category", "advisory", choices=_choices([c.value for c in NoticeCategory])
    )
    from pgs_hub.hub.i18n import resolve

    lang = resolve(None)
    return {
        "category": category,
        "title": {lang: _ask("cli.new.ask.title")},
        "body": {lang: _ask("cli.new.ask.body")},
        "audience": _regions(),
    }


def _asked_until_valid(
    kind: str, asker: Callable[[], dict[str, Any]], attempts: int = 3
) -> dict[str, Any]:
    """Ask, validate with the protocol model, show the problems and ask again (a few times)."""
    from pgs_hub.hub.cli.errors import language, problem_place, problem_text
    from pgs_hub.protocols.errors import MessageValidationError
    from pgs_hub.protocols.messages.registry import parse_message

    for attempt in range(attempts):
        doc = asker()
        try:
            parse_message(kind, doc)
        except MessageValidationError as exc:
            if attempt == attempts - 1:
                raise
            for p in exc.problems:
                lang = language()
                text = f"{problem_place(p.pointer, lang)} {problem_text(p.message, lang)}"
                click.echo(say("cli.new.ask.retry", problem=text), err=True)
            continue
        return doc
    raise AssertionError("unreachable")  # pragma: no cover


@click.command()
@click.argument("kind", type=click.Choice(TEMPLATE_KINDS))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the message (default: KIND.json).",
)
@click.option("--interactive", "-i", is_flag=True, help="Ask for each field instead.")
@click.option("--reply-to", "in_reply_to", metavar="MID", help="For a reply: the message answered.")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@LANG_OPTION
def new(
    kind: str, output: Path | None, interactive: bool, in_reply_to: str | None, force: bool
) -> None:
    """Write a filled-in KIND message (alert, seizure, rfi, reply or notice) to edit and send.

    Every value marked CHANGE-ME must be replaced; `pgs send` refuses the file until it is. With
    --interactive the fields are asked one by one and checked with the protocol's rules.
    """
    path = output or Path(f"{kind}.json")
    if path.exists() and not force:
        fail(say("cli.new.exists", path=path))
    today = dt.datetime.now(dt.UTC).date()
    if interactive:
        click.echo(say("cli.new.ask.intro"), err=True)
        doc = _asked_until_valid(kind, lambda: ask(kind, today=today, in_reply_to=in_reply_to))
    else:
        doc = template(kind, today=today, in_reply_to=in_reply_to)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out.print(say("cli.new.written", kind=kind, path=path), markup=False)
    for pointer in placeholders(doc):
        out.print(f"  {PLACEHOLDER} {pointer}", markup=False)
