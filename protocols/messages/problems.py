"""Turn pydantic validation errors into :class:`~protocols.errors.FieldProblem` values.

Pydantic's messages are written for Python programmers ("Input should be a valid integer") and its
locations are tuples. Participants get an RFC 6901 JSON Pointer into the document they sent and a
message in plain words that reads after it: ``/lines/0/quantity/unit must be one of KGM, TNE``.
Messages never repeat the rejected value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from pgs_hub.protocols.errors import FieldProblem

__all__ = ["MAX_PROBLEMS", "json_pointer", "plain_message", "problems_from"]

MAX_PROBLEMS = 50
"""Most problems reported for one document; the rest are summed up in one last problem."""


def json_pointer(location: Iterable[int | str], prefix: str = "") -> str:
    """The RFC 6901 JSON Pointer for a pydantic error location, after ``prefix``."""
    parts = (str(p).replace("~", "~0").replace("/", "~1") for p in location)
    return prefix + "".join("/" + p for p in parts)


def _quoted(expected: str) -> list[str]:
    # pydantic writes the allowed values as "'a', 'b' or 'c'".
    return re.findall(r"'((?:[^'\\]|\\.)*)'", expected)


def _one_of(ctx: Mapping[str, Any]) -> str:
    values = _quoted(str(ctx.get("expected", "")))
    if len(values) == 1:
        return f"must be {values[0]}"
    if values:
        return "must be one of " + ", ".join(values)
    return "is not one of the allowed values"


def _items(n: object) -> str:
    return "1 item" if n == 1 else f"{n} items"


def _chars(n: object) -> str:
    return "1 character" if n == 1 else f"{n} characters"


_DATE = "must be a date written like 2024-05-31"
_DATETIME = "must be a UTC date and time written like 2024-05-31T14:30:00Z"

_FIXED: Mapping[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not an allowed field",
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text",
    "string_pattern_mismatch": "does not have the required format",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "dataclass_type": "must be an object",
    "none_required": "must be null",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_aware": "must include a time zone (Z for UTC)",
    "frozen_instance": "cannot be changed",
    "recursion_loop": "refers to itself",
}

_WITH_CONTEXT: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "string_too_short": lambda c: (
        "must not be empty"
        if c.get("min_length") == 1
        else f"must be at least {_chars(c.get('min_length'))} long"
    ),
    "string_too_long": lambda c: f"must be at most {_chars(c.get('max_length'))} long",
    "too_short": lambda c: f"must have at least {_items(c.get('min_length'))}",
    "too_long": lambda c: f"must have at most {_items(c.get('max_length'))}",
    "greater_than": lambda c: f"must be greater than {c.get('gt')}",
    "greater_than_equal": lambda c: f"must be at least {c.get('ge')}",
    "less_than": lambda c: f"must be less than {c.get('lt')}",
    "less_than_equal": lambda c: f"must be at most {c.get('le')}",
    "decimal_max_digits": lambda c: f"must have at most {c.get('max_digits')} digits",
    "decimal_max_places": lambda c: f"must have at most {c.get('decimal_places')} decimal places",
    "decimal_whole_digits": lambda c: (
        f"must have at most {c.get('whole_digits')} digits before the decimal point"
    ),
    "enum": _one_of,
    "literal_error": _one_of,
}


def plain_message(error: ErrorDetails) -> str:
    """The plain-words message for one pydantic error, to be read after its JSON pointer."""
    kind = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind.startswith("pgs."):
        return error["msg"]  # our own validators already speak plainly
    if kind in _FIXED:
        return _FIXED[kind]
    if kind in _WITH_CONTEXT:
        return _WITH_CONTEXT[kind](ctx)
    if kind in {"value_error", "assertion_error"} and "error" in ctx:
        return str(ctx["error"])
    message = error["msg"]
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return "is not valid"


def problems_from(
    exc: ValidationError, *, prefix: str = "", limit: int = MAX_PROBLEMS
) -> list[FieldProblem]:
    """The problems in ``exc``, in document order, at most ``limit`` plus one summary."""
    errors = exc.errors(include_url=False, include_input=False)
    # When items of a list fail, pydantic also says the list is too short (it counts the valid
    # items only); that second problem is noise.
    inner = {tuple(e["loc"][:n]) for e in errors for n in range(len(e["loc"]))}
    problems: list[FieldProblem] = []
    seen: set[FieldProblem] = set()
    for error in errors:
        if error["type"] == "too_short" and tuple(error["loc"]) in inner:
            continue
        found = FieldProblem(json_pointer(error["loc"], prefix), plain_message(error))
        if found not in seen:
            seen.add(found)
            problems.append(found)
    if len(problems) > limit:
        rest = len(problems) - limit
        problems = [*problems[:limit], FieldProblem(prefix, f"has {rest} more problems")]
    return problems
