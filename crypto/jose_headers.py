"""Header-parameter rules shared by the JWS and JWE profiles.

The profile names every parameter it accepts. Parameters that change how a message is processed
or which key is trusted (``crit``, ``zip``, ``jku``, ``jwk``, ``x5u`` …) get their own error,
because an implementation that silently honoured one of them is the classic JOSE vulnerability.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgs_hub.crypto.errors import ForbiddenHeaderError, MalformedError

FORBIDDEN = frozenset(
    {
        "crit",
        "zip",
        "jku",
        "jwk",
        "x5u",
        "x5c",
        "x5t",
        "x5t#S256",
        "b64",
        "p2s",
        "p2c",
        "apu",
        "apv",
    }
)


def check_header(
    header: Mapping[str, Any], *, what: str, required: frozenset[str], optional: frozenset[str]
) -> None:
    """Raise unless ``header`` has every required parameter and nothing outside the profile."""
    if header.keys() == required and required.isdisjoint(FORBIDDEN):  # the usual case
        return
    forbidden = sorted(header.keys() & FORBIDDEN)
    if forbidden:
        raise ForbiddenHeaderError(
            f"{what} uses header parameter {forbidden[0]!r}, which this profile forbids"
        )
    missing = sorted(required - header.keys())
    if missing:
        raise MalformedError(f"{what} lacks header parameter(s): {', '.join(missing)}")
    unknown = sorted(header.keys() - required - optional)
    if unknown:
        raise MalformedError(
            f"{what} has header parameter(s) outside the profile: {', '.join(unknown)}"
        )
