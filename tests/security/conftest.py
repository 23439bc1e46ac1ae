"""Security suite fixtures: a real hub per test (the e2e ``hub`` fixture). The figures table is
printed at the end of the session by tests/conftest.py (see figures.py)."""

from __future__ import annotations

from tests.e2e.conftest import hub

__all__ = ["hub"]
