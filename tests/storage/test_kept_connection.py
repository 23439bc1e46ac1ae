"""The writers' own connection (hub/storage/kept_connection.py), on SQLite and PostgreSQL: on
SQLite one pooled connection serves every transaction of a writer and goes back to the pool when
the writer closes; a connection whose transaction failed is dropped for good, never handed to
anyone else, and the next transaction takes a fresh one; on PostgreSQL every transaction takes a
pooled connection, as before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from storage_rows import NOW

from pgs_hub.hub.errors import Unavailable
from pgs_hub.hub.services import writers
from pgs_hub.hub.storage import sqlite_driver
from pgs_hub.hub.storage.kept_connection import KeptConnection
from pgs_hub.hub.storage.nonces import NonceClaim


class Checkouts:
    """Connections taken from the engine's pool, and those taken now."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.pool = engine.sync_engine.pool
        self.taken = 0

    def __call__(self, *_: object) -> None:
        self.taken += 1

    @property
    def out(self) -> int:
        return self.pool.checkedout()  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def checkouts(engine: AsyncEngine) -> Iterator[Checkouts]:
    counter = Checkouts(engine)
    event.listen(engine.sync_engine, "checkout", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "checkout", counter)


def claims(first: int, count: int) -> list[NonceClaim]:
    return [NonceClaim("k", f"n-{n}", NOW + 600) for n in range(first, first + count)]


async def test_a_writer_keeps_one_connection_on_sqlite_and_gives_it_back_when_closed(
    engine: AsyncEngine, checkouts: Checkouts
) -> None:
    writer = writers.nonce_writer(engine)
    for n in range(10):  # one after the other: ten transactions
        assert await writer.submit(NonceClaim("k", f"n-{n}", NOW + 600))
    assert writer.batches == 10
    if engine.dialect.name == "sqlite":
        assert (checkouts.taken, checkouts.out) == (1, 1)
    else:
        assert (checkouts.taken, checkouts.out) == (10, 0)
    await writer.close()
    assert checkouts.out == 0
    with pytest.raises(Unavailable):
        await writer.submit(NonceClaim("k", "late", NOW + 600))
    assert checkouts.out == 0


@pytest.fixture
async def kept(engine: AsyncEngine) -> AsyncIterator[KeptConnection]:
    """A writer's connection on SQLite, taken by a first transaction; given back at the end."""
    if engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL nothing is kept: the pool checks its own connections")
    kept = KeptConnection(engine)
    try:
        assert await writers.store_nonces(kept, claims(0, 1)) == [True]
        yield kept
    finally:
        await kept.close()


async def test_a_connection_whose_transaction_failed_is_dropped_not_pooled(
    engine: AsyncEngine, checkouts: Checkouts, kept: KeptConnection
) -> None:
    conn = kept.connection
    assert conn is not None
    first = (await conn.get_raw_connection()).driver_connection
    # Break it as a full disk would, on this connection only (SQLITE_FULL).
    pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
    await conn.execute(text(f"PRAGMA max_page_count = {int(pages)}"))
    await conn.commit()
    with pytest.raises(OperationalError, match="full"):
        await writers.store_nonces(kept, claims(1, 2000))
    assert kept.connection is None
    assert checkouts.out == 0
    # Closed, not handed back to the pool for another user to meet its limit.
    with pytest.raises(ValueError, match="no active connection"):
        first.sqlite3_connection  # noqa: B018 - the property raises once closed
    # The next transaction takes a fresh connection, which may grow the file.
    assert await writers.store_nonces(kept, claims(1, 2000)) == [True] * 2000
    assert kept.connection is not None
    again = (await kept.connection.get_raw_connection()).driver_connection
    assert again is not first
    assert checkouts.taken == 2
    await kept.close()
    assert checkouts.out == 0


async def _temp_store(conn: AsyncConnection) -> int:
    """``PRAGMA temp_store`` of ``conn`` (0 default, 1 file, 2 memory), read without a
    transaction."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert isinstance(driver, sqlite_driver.Connection)
    return int(driver.sqlite3_connection.execute("PRAGMA temp_store").fetchone()[0])


async def test_the_kept_connection_keeps_temporary_files_in_memory_and_gives_that_back(
    engine: AsyncEngine, checkouts: Checkouts, kept: KeptConnection
) -> None:
    """A batch's statement journal (the pages its SAVEPOINT changed) stays in memory on the
    writer's connection instead of a temporary file made and deleted on the event loop for every
    batch; a pooled connection goes back to the pool as it came (file sorts stay bounded by disk,
    not memory)."""
    conn = kept.connection
    assert conn is not None
    assert await _temp_store(conn) == 2
    assert await writers.store_nonces(kept, claims(1, 500)) == [True] * 500
    assert kept.connection is conn
    assert await _temp_store(conn) == 2
    driver = (await conn.get_raw_connection()).driver_connection
    await kept.close()
    assert checkouts.out == 0
    async with engine.connect() as pooled:  # the only one in the pool: the one kept before
        assert (await pooled.get_raw_connection()).driver_connection is driver
        assert await _temp_store(pooled) == 0
    assert checkouts.taken == 2


async def test_a_connection_that_cannot_be_set_back_is_dropped_when_the_writer_closes(
    engine: AsyncEngine, checkouts: Checkouts, kept: KeptConnection
) -> None:
    """Giving the connection back sets ``temp_store`` back first; a connection broken under the
    writer cannot be: closing the writer still succeeds, and the broken connection is not handed
    out again."""
    conn = kept.connection
    assert conn is not None
    driver = (await conn.get_raw_connection()).driver_connection
    assert isinstance(driver, sqlite_driver.Connection)
    driver.sqlite3_connection.close()
    await kept.close()
    assert checkouts.out == 0
    async with engine.connect() as pooled:
        assert (await pooled.get_raw_connection()).driver_connection is not driver
        assert await _temp_store(pooled) == 0
