"""The one line a mailbox shows for a message, read from its opened content (the CLI's inbox and
the officer desk show the same line, so it is said once here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["subject_line"]

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
