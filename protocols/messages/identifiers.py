"""Identifiers that messages carry: message and participant ids, SHA-256 digests.

The formats are those of the routing header (:mod:`protocols.routing`), so that content can refer
to what the header names.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    StringConstraints,
    WithJsonSchema,
)

from pgs_hub.protocols.messages._base import (
    CODE_MAX,
    problem,
)

__all__ = ["MessageId", "ParticipantId", "Sha256Hex"]

# The same formats as the routing header (protocols.routing): a message id is a random UUID (version
# 4) in lower case; a participant id is a country code or WCO, then one to three upper-case parts.
_MESSAGE_ID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_PARTICIPANT_ID = "(?:[A-Z]{2}|WCO)(?:-[A-Z0-9]{1,20}){1,3}"


def _message_id(value: str) -> str:
    if not re.fullmatch(_MESSAGE_ID, value):
        raise problem("message_id", "must be a message id: a random (version 4) UUID in lower case")
    return value


def _participant_id(value: str) -> str:
    if not re.fullmatch(_PARTICIPANT_ID, value):
        raise problem(
            "participant_id",
            "must be a participant id: a country code (ISO alpha-2) or WCO, then one to three"
            " dash-separated upper-case parts, like NG-NCP-LAGOS",
        )
    return value


MessageId = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_message_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_MESSAGE_ID}$",
            "description": "Message id from a routing header (UUID version 4, lower case).",
        }
    ),
]
"""The id of a message, as assigned in its routing header (random UUID, lower case)."""

ParticipantId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_participant_id),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 64,
            "pattern": f"^{_PARTICIPANT_ID}$",
            "description": "Id of a hub participant, like NG-NCP-LAGOS or WCO-PGS.",
        }
    ),
]
"""The id of a participant (an NCP or a WCO staff desk) on the hub, like ``NG-NCP-LAGOS``."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _sha256_hex(value: str) -> str:
    if not _SHA256_HEX.fullmatch(value):
        raise problem("sha256_hex", "must be a SHA-256 digest as 64 lower-case hex digits")
    return value


Sha256Hex = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_sha256_hex),
    WithJsonSchema({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
]
"""SHA-256 digest as 64 lower-case hexadecimal digits."""
