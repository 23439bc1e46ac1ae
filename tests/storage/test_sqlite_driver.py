"""The SQLite connections of the hub's engine (hub.storage.sqlite_driver): one hand-off to the
connection's thread per statement, and otherwise what plain aiosqlite gives."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from pgs_hub.hub.storage import sqlite_driver
from pgs_hub.hub.storage.engine import create_engine, default_sqlite_url


async def test_statements_rows_and_transactions(tmp_path: Path) -> None:
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite_driver.Connection)
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            await conn.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": f"r{n}"} for n in range(5)]
            )
            inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('x') RETURNING id, v"))
            assert inserted.all() == [(6, "x")]
            result = await conn.execute(text("SELECT v FROM t ORDER BY id"))
            assert result.fetchone() == ("r0",)
            assert result.fetchmany(2) == [("r1",), ("r2",)]
            assert result.fetchall() == [("r3",), ("r4",), ("x",)]
            assert (await conn.execute(text("UPDATE t SET v = 'y' WHERE id > 4"))).rowcount == 2
        async with engine.connect() as conn:
            async with conn.begin():
                await conn.execute(text("DELETE FROM t"))
                await conn.rollback()
            assert await conn.scalar(text("SELECT count(*) FROM t")) == 6
            assert await conn.scalar(text("PRAGMA synchronous")) == 2  # FULL, as configured
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
    finally:
        await engine.dispose()
    # Committed work is on disk for the next process.
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
        assert rows == ["r0", "r1", "r2", "r3", "y", "y"]
    finally:
        await engine.dispose()


async def test_one_hand_off_per_statement(tmp_path: Path) -> None:
    """Plain aiosqlite hands four calls per statement to the connection's thread and waits for
    each (cursor, execute, fetch, close); this driver waits for one."""
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite_driver.Connection)
            await conn.execute(text("SELECT 1"))  # the transaction's BEGIN, before counting
            waited: list[object] = []
            plain = raw._execute

            async def counted(fn: object, *args: object, **kwargs: object) -> object:
                waited.append(fn)
                return await plain(fn, *args, **kwargs)  # type: ignore[arg-type]

            raw._execute = counted  # type: ignore[method-assign]
            for n in range(10):
                assert await conn.scalar(text("SELECT :n"), {"n": n}) == n
            assert len(waited) == 10
    finally:
        await engine.dispose()
