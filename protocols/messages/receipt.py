"""Receipt: what a recipient signs to say a message was delivered to it, or read.

This module holds the model only; signing and verifying receipts is done elsewhere.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from pgs_hub.protocols.messages._base import CODE_MAX, ContentModel, UtcDateTime, problem
from pgs_hub.protocols.messages.identifiers import MessageId, ParticipantId
from pgs_hub.protocols.messages.kinds import MessageKind

__all__ = ["EnvelopeDigest", "Receipt", "ReceiptStatus"]

# 32 bytes in base64url without padding: 42 characters of 6 bits and a 43rd holding the last 4
# bits followed by two zero bits, so it is one of the 16 characters whose low two bits are zero.
_B64URL_SHA256 = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")


def _digest(value: str) -> str:
    if not _B64URL_SHA256.fullmatch(value):
        raise problem(
            "digest",
            "must be a SHA-256 digest in base64url without padding (43 characters)",
        )
    return value


EnvelopeDigest = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_digest),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
            "description": "SHA-256 in base64url without padding (RFC 4648 section 5).",
        }
    ),
]
"""SHA-256 digest in canonical base64url without padding: 43 characters."""


class ReceiptStatus(StrEnum):
    """What the recipient states about the message."""

    DELIVERED = "delivered"
    """The recipient's system received and verified the envelope."""
    READ = "read"
    """A person at the recipient opened the message."""


class Receipt(ContentModel):
    """The statement a recipient signs about one message it received."""

    kind: ClassVar[MessageKind] = MessageKind.RECEIPT

    v: Literal["pgs/1"]
    """Protocol version: pgs/1 (``protocols.messages.PROTOCOL``)."""
    mid: MessageId
    """Message id of the message acknowledged."""
    envelope_sha256: EnvelopeDigest
    """SHA-256 of the exact envelope bytes received, base64url without padding."""
    status: ReceiptStatus
    """delivered or read."""
    at: UtcDateTime
    """When, in UTC."""
    by: ParticipantId
    """The participant making the statement."""
