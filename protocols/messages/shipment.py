"""Shipments: how goods travel, in what, under which document, along which route."""

from __future__ import annotations

import re
import string
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from pgs_hub.protocols.messages._base import CODE_MAX, ContentModel, Line, Token, WireDate, problem
from pgs_hub.protocols.messages.places import Location

__all__ = [
    "MAX_CONTAINERS",
    "MAX_TRANSIT",
    "ContainerNumber",
    "Route",
    "Shipment",
    "TransportMode",
    "iso6346_check_digit",
]

MAX_CONTAINERS = 200
"""Most container numbers one shipment may list."""
MAX_TRANSIT = 10
"""Most transit points one route may list."""


class TransportMode(StrEnum):
    """How the goods travel (the mode at the border where they are reported)."""

    SEA = "sea"
    AIR = "air"
    ROAD = "road"
    RAIL = "rail"
    POST = "post"
    """Postal item, carried by a designated postal operator."""
    COURIER = "courier"
    """Express courier consignment."""
    MULTIMODAL = "multimodal"
    OTHER = "other"


# --- ISO 6346 container numbers ------------------------------------------------------------------

# Letters count from 10 upwards, skipping multiples of 11: A=10, B=12 ... K=21, L=23 ... Z=38.
_LETTER_VALUES: dict[str, int] = {}
_next = 10
for _letter in string.ascii_uppercase:
    if _next % 11 == 0:
        _next += 1
    _LETTER_VALUES[_letter] = _next
    _next += 1
del _next, _letter

_CONTAINER = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")


def iso6346_check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of an owner code, category letter and six-digit serial number.

    Each character's value (digits as themselves, letters from the table above) is weighted by
    2 to the power of its position; the sum modulo 11, then modulo 10, is the check digit.
    """
    if len(first_ten) != 10:
        raise ValueError("an ISO 6346 check digit is computed over exactly ten characters")
    total = 0
    for position, char in enumerate(first_ten):
        value = int(char) if char.isdigit() else _LETTER_VALUES[char]
        total += value << position
    return total % 11 % 10


def _container(value: str) -> str:
    if not _CONTAINER.fullmatch(value):
        raise problem(
            "container_format",
            "is not a container number: three letters of owner code, U, J or Z, then seven "
            "digits, without spaces, like CSQU3054383",
        )
    if iso6346_check_digit(value[:10]) != int(value[10]):
        raise problem("container_check_digit", "is not a valid container number (check digit)")
    return value


ContainerNumber = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_container),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Z]{3}[UJZ][0-9]{7}$",
            "description": "ISO 6346 container number with its check digit, no spaces.",
            "examples": ["CSQU3054383"],
        }
    ),
]
"""ISO 6346 container number, eleven characters without spaces, with a correct check digit."""


# --- route ---------------------------------------------------------------------------------------


class Route(ContentModel):
    """Where the goods come from, pass through and go to."""

    origin: Location
    """Country (and place) of departure or loading."""
    transit: tuple[Location, ...] = Field(default=(), max_length=MAX_TRANSIT)
    """Countries (and places) passed through, in order."""
    destination: Location
    """Country (and place) of destination or discharge."""


# --- shipment ------------------------------------------------------------------------------------


class Shipment(ContentModel):
    """The movement of the goods."""

    mode: TransportMode
    """Mode of transport: sea, air, road, rail, post, courier, multimodal or other."""
    route: Route
    """Origin, transit points and destination."""
    conveyance: Line | None = None
    """Name of the vessel or aircraft, or registration of the vehicle."""
    voyage: Token | None = None
    """Voyage, flight or trip number."""
    transport_document: Token | None = None
    """Number of the bill of lading, air waybill, CMR consignment note or postal item."""
    containers: tuple[ContainerNumber, ...] = Field(
        default=(), max_length=MAX_CONTAINERS, json_schema_extra={"uniqueItems": True}
    )
    """ISO 6346 numbers of the containers carrying the goods, each listed once."""
    departure: WireDate | None = None
    """Date of departure from the origin, actual or planned."""
    arrival: WireDate | None = None
    """Date of arrival at the destination, actual or expected; not before the departure."""

    @field_validator("containers")
    @classmethod
    def _containers_once(cls, containers: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(containers)) != len(containers):
            raise problem("duplicate", "must list each container once")
        return containers

    @field_validator("arrival")
    @classmethod
    def _arrival_after_departure(cls, arrival: date | None, info: ValidationInfo) -> date | None:
        departure = info.data.get("departure")
        if arrival is not None and departure is not None and arrival < departure:
            raise problem("date_order", "must not be before the departure date")
        return arrival
