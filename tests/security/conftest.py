"""Security suite fixtures: a real hub per test (the e2e ``hub`` fixture), and the figures table
printed at the end of the session."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import hub
from tests.security import figures

__all__ = ["hub"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if figures.TRIED:
        mode = "soak" if figures.SOAK else "short"
        terminalreporter.section(f"security figures ({mode} mode)")
        for line in figures.table():
            terminalreporter.write_line(line)
