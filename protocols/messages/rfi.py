"""Request for information: a participant asks a question, possibly about earlier messages."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pgs_hub.protocols.messages._base import ContentModel, Line, LongText, WireDate
from pgs_hub.protocols.messages.attachments import Attachments
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.references import References

__all__ = ["Priority", "Rfi"]


class Priority(StrEnum):
    """How soon an answer is needed."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"
    """Goods are moving or people are at risk: answer as soon as possible."""


class Rfi(ContentModel):
    """A request for information.

    Sender, recipients, message id and handling (TLP) are in the routing header, not here.
    """

    kind: ClassVar[MessageKind] = MessageKind.RFI

    subject: Line
    """One-line summary of the request."""
    question: LongText
    """What the sender wants to know."""
    about: References = ()
    """Earlier messages the question is about."""
    due: WireDate | None = None
    """Date by which an answer is needed."""
    priority: Priority = Priority.NORMAL
    """low, normal, high or urgent; normal when absent."""
    attachments: Attachments = ()
    """Files sent with the request (descriptions only)."""
