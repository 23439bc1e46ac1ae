"""Seizure: a participant reports goods it has seized (or stopped) and what follows."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, Strict

from pgs_hub.protocols.messages._base import ContentModel, Line, LongText, Text, Token, WireDate
from pgs_hub.protocols.messages.attachments import Attachments
from pgs_hub.protocols.messages.enforcement import (
    Action,
    Concealment,
    DetectionMethod,
    RiskIndicators,
)
from pgs_hub.protocols.messages.evaluation import Evaluation
from pgs_hub.protocols.messages.goods import MAX_LINES, CommodityLine
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.parties import Parties
from pgs_hub.protocols.messages.places import Location
from pgs_hub.protocols.messages.quantities import Quantity
from pgs_hub.protocols.messages.references import References
from pgs_hub.protocols.messages.shipment import Shipment

__all__ = ["MAX_ARRESTS", "SeizedLine", "Seizure"]

MAX_ARRESTS = 10_000
"""Largest number of arrests a seizure report may state."""


class SeizedLine(CommodityLine):
    """A commodity line of a seizure: the goods involved and how much of them was seized."""

    quantity_seized: Quantity
    """How much was seized; may differ from ``quantity`` (declared or found), also in unit."""


class Seizure(ContentModel):
    """Goods seized (or detained) by the reporting administration.

    Sender, recipients, message id and handling (TLP) are in the routing header, not here.
    """

    kind: ClassVar[MessageKind] = MessageKind.SEIZURE

    subject: Line
    """One-line summary, such as "12 t ammonium nitrate seized at Tema"."""
    narrative: LongText | None = None
    """The facts in plain words."""
    seized_on: WireDate
    """Date of the seizure (local date at the place of seizure)."""
    place: Location
    """Where the goods were seized."""
    lines: Annotated[tuple[SeizedLine, ...], Field(min_length=1, max_length=MAX_LINES)]
    """The goods seized, one line per commodity (at least one)."""
    shipment: Shipment | None = None
    """How and where the goods were travelling, when they were in a shipment."""
    parties: Parties = ()
    """Consignor, consignee, declarant, carrier and other parties."""
    risk_indicators: RiskIndicators = ()
    """What made the shipment suspicious."""
    detection: DetectionMethod | None = None
    """What brought the goods to notice."""
    concealment: Concealment | None = None
    """How the goods were hidden or disguised, if they were."""
    action_taken: Action
    """What was done: seize, hold, controlled_delivery, inspect or monitor."""
    arrests: Annotated[int, Strict(), Field(ge=0, le=MAX_ARRESTS)] | None = None
    """Number of people arrested, when known."""
    follow_up: Text | None = None
    """Investigation, prosecution or assistance requested, in plain words."""
    case_reference: Token | None = None
    """The reporting administration's own case number."""
    evaluation: Evaluation | None = None
    """4x4 evaluation of the source and the information."""
    references: References = ()
    """Earlier messages this seizure relates to (an alert that led to it, for example)."""
    attachments: Attachments = ()
    """Files sent with the report (descriptions only)."""
