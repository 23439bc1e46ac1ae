"""Per security family: how many hostile cases were tried and how many were accepted (must be 0).

Two ways in. Tests that try many cases inside one test function call :func:`record` (the random
mutations, the fuzzers, schemathesis, the access matrix, the resource limits...). Tables of
refusals whose every test item is one case (Wycheproof vectors, the RFC 9421 edge cases) are
counted from the test reports by :func:`count_report`: an item that passed is a case tried, an
item that failed is a bad case accepted (or a good one refused).

tests/conftest.py prints the table at the end of every session that recorded something, so
``make test`` and ``make soak`` show it with the fault figures.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest

SOAK = os.environ.get("PGS_SOAK") == "1"
#: False in pytest-xdist workers: the controller counts the reports (tests/conftest.py).
COUNT_REPORTS = True
TRIED: dict[str, int] = defaultdict(int)
ACCEPTED: dict[str, int] = defaultdict(int)

#: Test items counted one case each: (node id pattern, family).
CASE_TABLES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"tests/crypto/test_wycheproof\.py::test_(ed25519|x25519|aes_256_\w+)\["),
     "Wycheproof vectors (Ed25519, X25519, AES-GCM, AES-KW)"),
    (re.compile(
        r"tests/auth/test_httpsig\.py::test_\w*(refuse|bad_signature|invalid|mismatch|missing"
        r"|malformed|unsupported|expired|propagates|unknown_key|raise_only|outside)"),
     "authentication edge cases (RFC 9421 refusals)"),
)  # fmt: skip


def repeat(short: int, soak: int) -> int:
    return soak if SOAK else short


def record(family: str, *, tried: int, accepted: int = 0) -> None:
    TRIED[family] += tried
    ACCEPTED[family] += accepted


def count_report(report: pytest.TestReport) -> None:
    """Count a test item of a case table (see :data:`CASE_TABLES`)."""
    if report.when != "call" or report.skipped:
        return
    for pattern, family in CASE_TABLES:
        if pattern.match(report.nodeid):
            record(family, tried=1, accepted=int(report.failed))
            return


def table() -> list[str]:
    width = max([len("security family"), *map(len, TRIED)])
    head = f"{'security family':<{width}} {'tried':>8} {'accepted-bad':>12}"
    lines = [head, "-" * len(head)]
    lines += [f"{name:<{width}} {TRIED[name]:>8} {ACCEPTED[name]:>12}" for name in sorted(TRIED)]
    return lines
