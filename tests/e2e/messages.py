"""Message contents for the end-to-end tests, from the example files in tests/vectors/messages."""

from __future__ import annotations

import json
from pathlib import Path

from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message

EXAMPLES = Path(__file__).parents[1] / "vectors" / "messages"


def example(kind: MessageKind) -> ContentModel:
    return parse_message(kind, json.loads((EXAMPLES / f"{kind.value}.json").read_text()))


#: The smallest alert an officer would write by hand, as the JSON file the CLI tests send.
ALERT = {
    "subject": "Ammonium nitrate, 24 t, Lagos to Tema",
    "lines": [
        {
            "commodity": "AN",
            "description": "Ammonium nitrate in 50 kg bags",
            "quantity": {"value": 24, "unit": "TNE"},
        }
    ],
    "shipment": {
        "mode": "sea",
        "route": {"origin": {"country": "NG"}, "destination": {"country": "GH"}},
    },
    "action_requested": "inspect",
}
