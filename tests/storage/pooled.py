"""The one pooled SQLite connection of a test's engine, for tests that watch what it does."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage import sqlite_driver


async def only_connection(engine: AsyncEngine) -> sqlite_driver.Connection:
    """Open and hand back one connection, so that the pool holds exactly that one and gives it to
    the test's next transaction; its driver connection."""
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
    assert isinstance(driver, sqlite_driver.Connection)
    assert engine.sync_engine.pool.checkedin() == 1  # type: ignore[attr-defined]  # QueuePool
    return driver
