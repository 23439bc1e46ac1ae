"""Per security family: how many hostile cases were tried and how many were accepted (must be 0).
Printed at the end of the session by tests/security/conftest.py (``make soak`` shows it too)."""

from __future__ import annotations

import os
from collections import defaultdict

SOAK = os.environ.get("PGS_SOAK") == "1"
TRIED: dict[str, int] = defaultdict(int)
ACCEPTED: dict[str, int] = defaultdict(int)


def repeat(short: int, soak: int) -> int:
    return soak if SOAK else short


def record(family: str, *, tried: int, accepted: int = 0) -> None:
    TRIED[family] += tried
    ACCEPTED[family] += accepted


def table() -> list[str]:
    head = f"{'security family':<52} {'tried':>8} {'accepted-bad':>12}"
    lines = [head, "-" * len(head)]
    lines += [f"{name:<52} {TRIED[name]:>8} {ACCEPTED[name]:>12}" for name in sorted(TRIED)]
    return lines
