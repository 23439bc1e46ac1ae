"""Commodity lines: what goods a shipment or a seizure is about."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema

from pgs_hub.protocols.messages._base import ContentModel, JsonDecimal, Text
from pgs_hub.protocols.messages.codes import CasNumber, CommodityCode, HsCode, UnNumber
from pgs_hub.protocols.messages.quantities import Quantity

__all__ = ["MAX_LINES", "CommodityLine", "Percentage"]

MAX_LINES = 50
"""Most commodity lines one message may carry."""

Percentage = Annotated[
    JsonDecimal,
    Field(gt=0, le=100, max_digits=7, decimal_places=4),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100}),
]
"""A share in per cent: a JSON number greater than 0 and at most 100, up to 4 decimal places."""


class CommodityLine(ContentModel):
    """One kind of goods in a shipment, as declared or as found.

    The codes are not cross-checked against each other or against the PGS commodity: a declared
    HS code that does not match the goods actually found is itself an indicator worth reporting.
    """

    commodity: CommodityCode
    """PGS commodity code, such as AN for ammonium nitrate."""
    description: Text
    """Description of the goods, as declared or as found."""
    quantity: Quantity
    """How much of the goods, with its unit."""
    hs: HsCode | None = None
    """HS subheading, as declared (NNNN.NN)."""
    cas: CasNumber | None = None
    """CAS Registry Number of the substance."""
    un_number: UnNumber | None = None
    """UN dangerous-goods number, four digits without the UN prefix."""
    concentration: Percentage | None = None
    """Concentration of the substance in per cent (mass fraction), when known."""
