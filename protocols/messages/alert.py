"""Alert: a participant warns others about a suspicious shipment of PGS commodities."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from pgs_hub.protocols.messages._base import ContentModel, Line, LongText
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
from pgs_hub.protocols.messages.references import References
from pgs_hub.protocols.messages.shipment import Shipment

__all__ = ["Alert"]


class Alert(ContentModel):
    """A suspicious shipment of Programme Global Shield commodities that others should look at.

    Sender, recipients, message id and handling (TLP) are in the routing header, not here.
    """

    kind: ClassVar[MessageKind] = MessageKind.ALERT

    subject: Line
    """One-line summary, such as "24 t ammonium nitrate to unknown consignee, Tema"."""
    narrative: LongText | None = None
    """The facts in plain words."""
    lines: Annotated[tuple[CommodityLine, ...], Field(min_length=1, max_length=MAX_LINES)]
    """The goods of concern, one line per commodity (at least one)."""
    shipment: Shipment
    """How and where the goods travel."""
    parties: Parties = ()
    """Consignor, consignee, declarant and other parties."""
    risk_indicators: RiskIndicators = ()
    """Why the shipment is suspicious."""
    detection: DetectionMethod | None = None
    """What brought the shipment to notice."""
    concealment: Concealment | None = None
    """How the goods are hidden or disguised, if they are."""
    action_requested: Action
    """What the sender asks the recipients to do: monitor, inspect, hold, controlled_delivery or
    seize."""
    evaluation: Evaluation | None = None
    """4x4 evaluation of the source and the information."""
    references: References = ()
    """Earlier messages this alert relates to."""
    attachments: Attachments = ()
    """Files sent with the alert (descriptions only)."""
