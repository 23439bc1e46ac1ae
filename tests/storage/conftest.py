"""Fixtures for the storage tests (row factories are in ``storage_rows``)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import enrol

PEOPLE = ("fr-1", "de-1", "nl-1")


@pytest.fixture
async def population(engine: AsyncEngine) -> tuple[str, ...]:
    """Three enrolled participants (FR, DE, NL), each with a current sig and enc key."""
    async with engine.begin() as conn:
        for pid in PEOPLE:
            await enrol(conn, pid, pid[:2].upper())
    return PEOPLE
