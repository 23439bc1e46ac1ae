"""References from a message to earlier messages on the hub."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
)

from pgs_hub.protocols.messages._base import (
    ContentModel,
)
from pgs_hub.protocols.messages.identifiers import MessageId
from pgs_hub.protocols.messages.kinds import MessageKind

__all__ = ["MAX_REFERENCES", "MessageRef", "References"]


class MessageRef(ContentModel):
    """A reference to an earlier message on the hub."""

    mid: MessageId
    """Message id of the earlier message."""
    kind: MessageKind | None = None
    """Kind of the earlier message, when known."""


MAX_REFERENCES = 20

References = Annotated[tuple[MessageRef, ...], Field(max_length=MAX_REFERENCES)]
"""Up to 20 references to earlier messages."""
