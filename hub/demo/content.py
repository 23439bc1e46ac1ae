"""Realistic message contents for the demos (JSON files beside this module)."""

from __future__ import annotations

import json
from importlib import resources

from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message


def demo_content(kind: MessageKind) -> ContentModel:
    """The demo's ``kind`` message, validated."""
    text = (
        resources.files("pgs_hub.hub.demo")
        .joinpath("content", f"{kind.value}.json")
        .read_text("utf-8")
    )
    return parse_message(kind, json.loads(text))
