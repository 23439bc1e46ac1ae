"""Building blocks every message model uses: the base model, bounded text, strict numbers and dates.

Message content arrives from other participants and is untrusted. So every string and every list has
a maximum length, text may not carry control characters, numbers must be JSON numbers (``"24"`` is
not accepted where ``24`` is meant), and dates must be written the one ISO way.

Validation problems are raised as ``PydanticCustomError`` with a ``pgs.*`` type and a message
written in plain words to follow a JSON pointer (``is not a valid CAS number``); the registry passes
those messages through unchanged.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "CODE_MAX",
    "ContentModel",
    "JsonDecimal",
    "Line",
    "LongText",
    "Text",
    "Token",
    "UtcDateTime",
    "WireDate",
    "multi_line",
    "problem",
    "single_line",
]

# Lengths are in Unicode code points.
LINE_MAX = 200
TOKEN_MAX = 64
TEXT_MAX = 4_000
LONG_TEXT_MAX = 20_000
# Codes (country, HS, CAS, ids, digests ...) are capped well above their real length, so that a
# wrong one is explained by its format check rather than by the cap.
CODE_MAX = 128


def problem(kind: str, message: str) -> PydanticCustomError:
    """A validation problem with a stable ``pgs.<kind>`` type and a plain-words message.

    The message must not contain braces (pydantic formats it) nor the rejected value.
    """
    return PydanticCustomError(f"pgs.{kind}", message)


class ContentModel(BaseModel):
    """Base of every message content model and of the values inside one.

    Frozen (values are hashable and cannot change after validation), unknown members rejected, field
    documentation taken from the attribute docstrings into the JSON Schema.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        validate_default=False,
        str_strip_whitespace=False,
        hide_input_in_errors=True,
        allow_inf_nan=False,
    )


# --- text ---------------------------------------------------------------------------------------

# C0 and C1 controls, DEL and lone surrogates (which Python's json module lets through from
# "\ud800" escapes). Multi-line text may also hold tab, line feed and carriage return.
_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def single_line(value: str) -> str:
    if _LINE_BAD.search(value):
        raise problem("control_character", "must be one line without control characters")
    if value.isspace():
        raise problem("blank", "must not be blank")
    return value


def multi_line(value: str) -> str:
    if _TEXT_BAD.search(value):
        raise problem("control_character", "must not contain control characters")
    if value.isspace():
        raise problem("blank", "must not be blank")
    return value


Line = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LINE_MAX),
    AfterValidator(single_line),
]
"""One line of text (a subject, a name, a title): 1 to 200 characters, no line breaks."""

Token = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TOKEN_MAX),
    AfterValidator(single_line),
]
"""A short reference written by people (document, voyage or case number): 1 to 64 characters."""

Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TEXT_MAX),
    AfterValidator(multi_line),
]
"""Free text of up to 4,000 characters; line breaks and tabs allowed."""

LongText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LONG_TEXT_MAX),
    AfterValidator(multi_line),
]
"""Free text of up to 20,000 characters (a notice body, a question, an answer)."""


# --- numbers ------------------------------------------------------------------------------------


def _json_number(value: Any) -> Any:
    """Accept JSON numbers only: no strings, no booleans. Floats go through their shortest repr."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise problem("number_type", "must be a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _decimal_to_json(value: Decimal) -> int | float:
    # Values are capped at 15 significant digits, which a double holds exactly, so the JSON number
    # written here parses back to the same Decimal.
    if value == value.to_integral_value():
        return int(value)
    return float(value)


JsonDecimal = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    PlainSerializer(_decimal_to_json, when_used="json"),
]
"""A Decimal that travels as a JSON number. Add ``Field`` bounds and a ``WithJsonSchema``."""


# --- dates and times ----------------------------------------------------------------------------

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UTC_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def _date_input(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        return value
    raise problem("date_format", "must be a date written like 2024-05-31")


def _utc_input(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _UTC_RE.fullmatch(value):
        return value
    raise problem(
        "datetime_format", "must be a UTC date and time written like 2024-05-31T14:30:00Z"
    )


def _utc_only(value: datetime) -> datetime:
    if value.utcoffset() != timedelta(0):
        raise problem("datetime_utc", "must be in UTC (written with a final Z)")
    return value


WireDate = Annotated[
    date,
    BeforeValidator(_date_input),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}),
]
"""A calendar date, written ``YYYY-MM-DD``."""

UtcDateTime = Annotated[
    datetime,
    BeforeValidator(_utc_input),
    AfterValidator(_utc_only),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$",
        }
    ),
]
"""An instant in UTC, written ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``; other offsets are refused."""
