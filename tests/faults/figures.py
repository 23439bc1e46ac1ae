"""Figures for ``make soak``: per fault, runs / acknowledged / lost / duplicated / recovered.

Tests add their counts here; the conftest prints the table at the end of the session (short runs
print it too, so a failing count is visible in ``make test`` output as well).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

SOAK = os.environ.get("PGS_SOAK") == "1"


def repeat(short: int, soak: int) -> int:
    """How many times to run a fault: ``short`` in ``make test``, ``soak`` under PGS_SOAK=1."""
    return soak if SOAK else short


@dataclass
class Row:
    runs: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    recovered: int = 0


FAULTS: dict[str, Row] = defaultdict(Row)


def record(
    fault: str,
    *,
    runs: int = 1,
    acknowledged: int = 0,
    lost: int = 0,
    duplicated: int = 0,
    recovered: int = 0,
) -> None:
    row = FAULTS[fault]
    row.runs += runs
    row.acknowledged += acknowledged
    row.lost += lost
    row.duplicated += duplicated
    row.recovered += recovered


def table() -> list[str]:
    head = f"{'fault':<44} {'runs':>5} {'acked':>6} {'lost':>5} {'dup':>5} {'recovered':>9}"
    lines = [head, "-" * len(head)]
    for name in sorted(FAULTS):
        r = FAULTS[name]
        lines.append(
            f"{name:<44} {r.runs:>5} {r.acknowledged:>6} {r.lost:>5} {r.duplicated:>5}"
            f" {r.recovered:>9}"
        )
    return lines
