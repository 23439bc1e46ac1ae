"""Amounts of goods with their unit."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    WithJsonSchema,
)

from pgs_hub.protocols.messages._base import (
    ContentModel,
    JsonDecimal,
)
from pgs_hub.protocols.messages.codes import UnitCode

__all__ = ["Amount", "Quantity"]

Amount = Annotated[
    JsonDecimal,
    Field(gt=0, max_digits=15, decimal_places=6),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
]


class Quantity(ContentModel):
    """An amount of goods with its unit, such as 24 TNE."""

    value: Amount
    """A JSON number greater than 0: at most 15 significant digits and 6 decimal places."""
    unit: UnitCode
    """UN/ECE Recommendation 20 code: KGM kilogram, TNE tonne, LTR litre, H87 piece ..."""
