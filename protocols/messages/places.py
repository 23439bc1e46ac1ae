"""Where something is: a country and, when known, a UN/LOCODE place in it."""

from __future__ import annotations

from pydantic import (
    ValidationInfo,
    field_validator,
)

from pgs_hub.protocols.messages._base import (
    ContentModel,
    Line,
    problem,
)
from pgs_hub.protocols.messages.codes import CountryCode, UnLocode

__all__ = ["Location"]


class Location(ContentModel):
    """A country, and the place in it when known."""

    country: CountryCode
    """ISO 3166-1 alpha-2 code of the country."""
    locode: UnLocode | None = None
    """UN/LOCODE of the port, airport, border crossing or town; it must lie in ``country``."""
    description: Line | None = None
    """The place in words, such as "container terminal, scanning bay 3"."""

    @field_validator("locode")
    @classmethod
    def _locode_in_country(cls, locode: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if locode is not None and country is not None and locode[:2] != country:
            raise problem("locode_country", "must be a place in the country given with it")
        return locode
