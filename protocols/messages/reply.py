"""Reply: an answer to an earlier message (a request for information, an alert ...)."""

from __future__ import annotations

from typing import ClassVar

from pgs_hub.protocols.messages._base import ContentModel, Line, LongText
from pgs_hub.protocols.messages.attachments import Attachments
from pgs_hub.protocols.messages.evaluation import Evaluation
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.references import MessageRef, References

__all__ = ["Reply"]


class Reply(ContentModel):
    """An answer to an earlier message.

    Sender, recipients, message id and handling (TLP) are in the routing header, not here; the
    header's ``irt`` should name the same message as ``in_reply_to``.
    """

    kind: ClassVar[MessageKind] = MessageKind.REPLY

    in_reply_to: MessageRef
    """The message answered."""
    subject: Line | None = None
    """One-line summary of the answer."""
    answer: LongText
    """The answer in plain words."""
    evaluation: Evaluation | None = None
    """4x4 evaluation of the source and the information given."""
    references: References = ()
    """Other earlier messages the answer relates to."""
    attachments: Attachments = ()
    """Files sent with the answer (descriptions only)."""
