"""The people and companies involved in a shipment."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import (
    Field,
)

from pgs_hub.protocols.messages._base import (
    ContentModel,
    Line,
    Text,
    Token,
)
from pgs_hub.protocols.messages.codes import CountryCode

__all__ = ["MAX_PARTIES", "Parties", "Party", "PartyRole"]


class PartyRole(StrEnum):
    """The part a person or company plays in a shipment."""

    CONSIGNOR = "consignor"
    CONSIGNEE = "consignee"
    DECLARANT = "declarant"
    END_USER = "end_user"
    CARRIER = "carrier"
    FREIGHT_FORWARDER = "freight_forwarder"
    NOTIFY_PARTY = "notify_party"
    OTHER = "other"


class Party(ContentModel):
    """A person or company involved in a shipment."""

    role: PartyRole
    """The part played: consignor, consignee, declarant, end_user, carrier ..."""
    name: Line
    """Name of the person or company."""
    address: Text | None = None
    """Postal address, as declared."""
    country: CountryCode | None = None
    """Country of the address."""
    identifier: Token | None = None
    """A trader, tax or registration number, as declared (for example an EORI or TIN)."""


MAX_PARTIES = 20

Parties = Annotated[tuple[Party, ...], Field(max_length=MAX_PARTIES)]
"""Up to 20 parties."""
