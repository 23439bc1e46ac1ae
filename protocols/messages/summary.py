"""What a mailbox reads off a message's opened content: its one subject line, and the codes it
names under a field (the CLI and the officer desk read the same way, so it is said once here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["strings_under", "subject_line"]

SUBJECT_CHARS = 78  # a first line longer than this is cut, with an ellipsis


def subject_line(content: Mapping[str, Any], lang: str) -> str:
    """The subject, a notice's title (in ``lang`` when the notice has it), or the first words of
    an answer or a question; empty when the content has none of these."""
    if content.get("subject"):
        return str(content["subject"])
    title = content.get("title")
    if isinstance(title, dict):
        return str(title.get(lang) or title.get("en") or title.get("fr") or "")
    for name in ("answer", "question"):
        if content.get(name):
            first = str(content[name]).splitlines()[0]
            return first[: SUBJECT_CHARS - 1] + "…" if len(first) > SUBJECT_CHARS else first
    return ""


def strings_under(value: object, key: str) -> set[str]:
    """Every string held under ``key`` at any depth of an opened content (countries named
    anywhere in it, places by UN/LOCODE)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == key and isinstance(inner, str):
                found.add(inner)
            else:
                found |= strings_under(inner, key)
    elif isinstance(value, list):
        for inner in value:
            found |= strings_under(inner, key)
    return found
