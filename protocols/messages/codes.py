"""Codes from public code lists: countries, places, HS subheadings, CAS and UN numbers, units and
PGS commodities.

Code-list membership and check digits (CAS numbers) are looked up in :mod:`protocols.codelists`,
imported inside the validators so that importing this module loads no code list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import (
    AfterValidator,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from pgs_hub.protocols.messages._base import (
    CODE_MAX,
    problem,
)

__all__ = [
    "CasNumber",
    "CodeListSchema",
    "CommodityCode",
    "CountryCode",
    "HsCode",
    "UnLocode",
    "UnNumber",
    "UnitCode",
]

# How many code-list entries a "must be one of ..." message spells out.
_LIST_IN_MESSAGE = 25


def _country(value: str) -> str:
    from pgs_hub.protocols.codelists import is_iso_country  # noqa: PLC0415 - code lists load on first use

    if not is_iso_country(value):
        raise problem("country", "is not an ISO 3166-1 alpha-2 country code, like NG")
    return value


def _unlocode(value: str) -> str:
    from pgs_hub.protocols.codelists import is_valid_unlocode  # noqa: PLC0415 - code lists load on first use

    if not is_valid_unlocode(value):
        raise problem(
            "unlocode", "is not a UN/LOCODE of five characters without a space, like NGLOS"
        )
    return value


def _hs(value: str) -> str:
    from pgs_hub.protocols.codelists import is_valid_hs  # noqa: PLC0415 - code lists load on first use

    if not is_valid_hs(value):
        raise problem("hs", "is not an HS subheading written like 3102.30")
    return value


def _cas(value: str) -> str:
    from pgs_hub.protocols.codelists import is_valid_cas  # noqa: PLC0415 - code lists load on first use

    if not is_valid_cas(value):
        raise problem(
            "cas", "is not a valid CAS number (format like 6484-52-2, with a matching check digit)"
        )
    return value


def _un_number(value: str) -> str:
    from pgs_hub.protocols.codelists import is_valid_un_number  # noqa: PLC0415 - code lists load on first use

    if not is_valid_un_number(value):
        raise problem("un_number", "is not a UN number of four digits, like 1942")
    return value


def _one_of(codes: list[str]) -> str:
    if len(codes) <= _LIST_IN_MESSAGE:
        return "must be one of " + ", ".join(codes)
    return "must be one of " + ", ".join(codes[:_LIST_IN_MESSAGE]) + " or another listed code"


def _unit(value: str) -> str:
    from pgs_hub.protocols.codelists import units  # noqa: PLC0415 - code lists load on first use

    known = units()
    if value not in known:
        raise problem("unit", _one_of(list(known)))
    return value


def _commodity(value: str) -> str:
    from pgs_hub.protocols.codelists import commodities  # noqa: PLC0415 - code lists load on first use

    known = commodities()
    if value not in known:
        raise problem("commodity", "is not a PGS commodity code: " + _one_of(list(known)))
    return value


def _unit_codes() -> list[str]:
    from pgs_hub.protocols.codelists import units  # noqa: PLC0415 - code lists load on first use

    return list(units())


def _commodity_codes() -> list[str]:
    from pgs_hub.protocols.codelists import commodities  # noqa: PLC0415 - code lists load on first use

    return list(commodities())


@dataclass(frozen=True, slots=True)
class CodeListSchema:
    """JSON Schema of a code taken from a code list: an ``enum`` of today's codes.

    The list is read when a schema is generated, not at import.
    """

    codes: Callable[[], list[str]]
    description: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": self.codes(), "description": self.description}


def _code_schema(pattern: str, description: str, *examples: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": pattern,
            "description": description,
            "examples": list(examples),
        }
    )


CountryCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_country),
    _code_schema("^[A-Z]{2}$", "ISO 3166-1 alpha-2 country code.", "NG", "GH"),
]
"""ISO 3166-1 alpha-2 country code, upper case (``NG``)."""

UnLocode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_unlocode),
    _code_schema("^[A-Z]{2}[A-Z2-9]{3}$", "UN/LOCODE without the space.", "NGLOS", "GHTEM"),
]
"""UN/LOCODE of a port or place, five characters without the space (``NGLOS``)."""

HsCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_hs),
    _code_schema(r"^\d{4}\.\d{2}$", "HS subheading (six digits) written NNNN.NN.", "3102.30"),
]
"""Harmonized System subheading, six digits written ``3102.30``."""

CasNumber = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_cas),
    _code_schema(r"^\d{2,7}-\d{2}-\d$", "CAS Registry Number with its check digit.", "6484-52-2"),
]
"""CAS Registry Number, hyphenated, with a correct check digit (``6484-52-2``)."""

UnNumber = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_un_number),
    _code_schema(r"^\d{4}$", "UN number (dangerous goods), four digits, no 'UN'.", "1942"),
]
"""UN dangerous-goods number, four digits without the ``UN`` prefix (``1942``)."""

UnitCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_unit),
    CodeListSchema(_unit_codes, "UN/ECE Recommendation 20 unit code from the PGS list."),
]
"""UN/ECE Recommendation 20 unit code from the PGS unit list (``KGM``, ``TNE``, ``LTR`` ...)."""

CommodityCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_commodity),
    CodeListSchema(_commodity_codes, "Code of a commodity on the Programme Global Shield list."),
]
"""Code of a commodity on the Programme Global Shield list (``AN`` for ammonium nitrate)."""
