"""What customs saw and did: risk indicators, how goods were detected and hidden, actions."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

from pgs_hub.protocols.messages._base import CODE_MAX, ContentModel, Text, problem

__all__ = [
    "MAX_INDICATORS",
    "Action",
    "Concealment",
    "ConcealmentMethod",
    "DetectionMethod",
    "IndicatorCode",
    "RiskIndicator",
    "RiskIndicators",
]

MAX_INDICATORS = 20
"""Most risk indicators one message may carry."""


class Action(StrEnum):
    """An enforcement action: requested of the recipients in an alert, taken in a seizure."""

    MONITOR = "monitor"
    """Watch the shipment and report what happens, without stopping it."""
    INSPECT = "inspect"
    """Examine the goods (documents, scan or physical examination)."""
    HOLD = "hold"
    """Stop the goods until the facts are established."""
    CONTROLLED_DELIVERY = "controlled_delivery"
    """Let the goods go on under surveillance to identify the people behind them."""
    SEIZE = "seize"
    """Take the goods under customs or judicial seizure."""


class DetectionMethod(StrEnum):
    """What brought the shipment to notice."""

    RISK_PROFILING = "risk_profiling"
    """Selected by risk profiling or targeting of declarations and manifests."""
    INTELLIGENCE = "intelligence"
    """Prompted by intelligence or a tip-off."""
    PGS_ALERT = "pgs_alert"
    """Prompted by a Global Shield alert or notice from another participant."""
    DOCUMENTARY_CHECK = "documentary_check"
    """Found on checking the declaration, licences or transport documents."""
    NON_INTRUSIVE_INSPECTION = "non_intrusive_inspection"
    """Found by X-ray or gamma-ray scanning or other non-intrusive equipment."""
    PHYSICAL_EXAMINATION = "physical_examination"
    """Found on opening and examining the goods."""
    DETECTION_DOG = "detection_dog"
    """Indicated by a detector dog."""
    FIELD_TEST = "field_test"
    """Identified with a field test kit or handheld analyser (Raman, FTIR ...)."""
    LABORATORY_ANALYSIS = "laboratory_analysis"
    """Identified by a customs or forensic laboratory."""
    RANDOM_SELECTION = "random_selection"
    """Selected at random."""
    OTHER = "other"


class ConcealmentMethod(StrEnum):
    """How the goods were hidden or disguised."""

    NOT_CONCEALED = "not_concealed"
    """Declared openly; the concern is the consignee, end use or route, not hiding."""
    MISDECLARATION = "misdeclaration"
    """Declared under another description, HS code or quantity."""
    AMONG_OTHER_GOODS = "among_other_goods"
    """Hidden among or under other goods (for example under bags of fertiliser)."""
    REPACKED = "repacked"
    """Repacked or relabelled to look like other goods."""
    FALSE_COMPARTMENT = "false_compartment"
    """In a false wall, floor or compartment of a container, vehicle or package."""
    ON_PERSON = "on_person"
    """On a traveller's body or in their luggage."""
    OTHER = "other"


class Concealment(ContentModel):
    """How the goods were hidden, with details in words."""

    method: ConcealmentMethod
    """The kind of concealment."""
    details: Text | None = None
    """What was seen, in plain words."""


_INDICATOR_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}")


def _indicator_code(value: str) -> str:
    if not _INDICATOR_CODE.fullmatch(value):
        raise problem(
            "indicator_code",
            "must be 1 to 32 upper-case letters, digits, dots, hyphens or underscores",
        )
    return value


IndicatorCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_indicator_code),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z0-9][A-Z0-9._-]{0,31}$"}),
]
"""Code of a risk indicator from a list the participants share (national or programme-wide)."""


class RiskIndicator(ContentModel):
    """One reason for suspicion, in words and optionally as a code."""

    text: Text
    """The indicator in plain words, such as "consignee has no history of fertiliser imports"."""
    code: IndicatorCode | None = None
    """Code of the indicator in a shared list, when there is one."""


RiskIndicators = Annotated[tuple[RiskIndicator, ...], Field(max_length=MAX_INDICATORS)]
"""Up to 20 risk indicators."""
