"""What a message is: the protocol version and the message kinds the routing header names."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["PROTOCOL", "MessageKind"]

PROTOCOL: Final = "pgs/1"
"""The protocol version this package speaks; receipts carry it as ``v``."""


class MessageKind(StrEnum):
    """What a message is; names the content model in the routing header."""

    ALERT = "alert"
    """A suspicious shipment that other members should look at."""
    SEIZURE = "seizure"
    """A seizure that has been made."""
    NOTICE = "notice"
    """A broadcast from WCO staff."""
    RFI = "rfi"
    """A request for information."""
    REPLY = "reply"
    """An answer to an earlier message."""
    RECEIPT = "receipt"
    """A signed acknowledgement that a message was delivered or read."""
