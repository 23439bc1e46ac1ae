"""Checkpoints of the serving hub's SQLite WAL in the background (hub.storage.checkpoint): a
commit no longer copies its pages into the database file, the checkpointer does, the WAL stays
bounded when it cannot keep up, and a stop leaves everything in the database file. Real files,
real SQLite; the database file grows only when a checkpoint copies pages into it."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage import batch
from pgs_hub.hub.storage.checkpoint import HARD_BOUND_PAGES, WalCheckpointer, serving_engine
from pgs_hub.hub.storage.engine import create_engine, default_sqlite_url

PART = 4 * 1024 * 1024  # an attachment part (the hub's max_part_bytes is 8 MiB)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def _table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE parts (id INTEGER PRIMARY KEY, data BLOB)"))


async def _append(engine: AsyncEngine, size: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO parts (data) VALUES (:d)"), {"d": os.urandom(size)})


async def _eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a background thread's doing), failing after a generous while."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_a_commit_of_the_default_engine_checkpoints_in_the_commit(tmp_path: Path) -> None:
    """What the serving engine avoids: past 1,000 WAL pages, SQLite's default makes the commit
    itself copy its pages into the database file."""
    db = tmp_path / "hub.db"
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        await _table(engine)
        before = _size(db)
        await _append(engine, PART)
        assert _size(db) >= before + PART  # copied by the commit
    finally:
        await engine.dispose()


async def test_the_serving_engine_commits_and_the_checkpointer_copies(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    engine, checkpointer = serving_engine(default_sqlite_url(tmp_path))
    assert checkpointer is not None
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA wal_autocheckpoint")) == HARD_BOUND_PAGES
            assert await conn.scalar(text("PRAGMA synchronous")) == 2  # FULL: durability stays
        await _table(engine)
        before = _size(db)
        for _ in range(3):
            await _append(engine, PART)
        # Committed (readable, durable in the WAL) but not copied: nothing ran a checkpoint.
        assert _size(db) < before + PART
        assert _size(db.with_name("hub.db-wal")) >= 3 * PART
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM parts")) == 3

        await asyncio.to_thread(checkpointer.start)
        await _eventually(lambda: checkpointer.checkpoints >= 1, "the checkpoint at start")
        assert _size(db) >= before + 3 * PART
        assert checkpointer.failures == 0
        # Later commits wake it: each burst is copied soon after, by the thread.
        copied = checkpointer.checkpoints
        await _append(engine, PART)
        await _eventually(lambda: checkpointer.checkpoints > copied, "a checkpoint after a commit")
        assert _size(db) >= before + 4 * PART
    finally:
        await engine.dispose()
        await asyncio.to_thread(checkpointer.stop)
    # The last checkpoint left everything in the database file and an empty WAL.
    assert _size(db.with_name("hub.db-wal")) == 0
    assert _size(db) >= before + 4 * PART
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM parts")) == 4
            assert await conn.scalar(text("SELECT sum(length(data)) FROM parts")) == 4 * PART
    finally:
        await engine.dispose()


async def test_without_the_checkpointer_the_writers_bound_the_wal(tmp_path: Path) -> None:
    """The fallback: a checkpointer that does not keep up (here: never started) leaves the
    commits that take the WAL past the bound to checkpoint by themselves, so the WAL stays
    bounded instead of growing with everything written."""
    bound = 64  # pages; the serving hub's is HARD_BOUND_PAGES
    wal = tmp_path / "hub.db-wal"
    engine = create_engine(default_sqlite_url(tmp_path), wal_autocheckpoint=bound)
    largest = 0
    try:
        await _table(engine)
        for _ in range(100):  # 100 x 64 KiB = 6.4 MiB written
            await _append(engine, 64 * 1024)
            largest = max(largest, _size(wal))
    finally:
        await engine.dispose()
    assert largest < 2 * (bound + 17) * 4096 + 65536  # the bound and one commit's pages past it
    unbounded = tmp_path / "unbounded"
    unbounded.mkdir()
    engine = create_engine(default_sqlite_url(unbounded), wal_autocheckpoint=0)
    try:
        await _table(engine)
        for _ in range(100):
            await _append(engine, 64 * 1024)
        assert _size(unbounded / "hub.db-wal") > 100 * 64 * 1024  # what the bound prevents
    finally:
        await engine.dispose()


async def test_a_failing_checkpoint_is_counted_and_logged_without_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The thread survives a failure, counts it and logs SQLite's error name, nothing else."""
    secret = b"NOT-A-DATABASE-BUT-SECRET-CONTENT"
    db = tmp_path / "hub.db"
    db.write_bytes(secret * 4096)
    checkpointer = WalCheckpointer(db, interval=0.01)
    caplog.set_level(logging.WARNING, logger="pgs_hub.hub.storage.checkpoint")
    await asyncio.to_thread(checkpointer.start)
    try:
        for _ in range(2):
            checkpointer.wake()
            await asyncio.sleep(0.05)
        await _eventually(lambda: checkpointer.failures >= 2, "two failed checkpoints")
    finally:
        await asyncio.to_thread(checkpointer.stop)
    assert checkpointer.checkpoints == 0
    # Logged once for the run of failures (the metrics count each).
    assert caplog.text.count("WAL checkpoint (PASSIVE) failed: SQLITE_NOTADB") == 1
    assert "SECRET" not in caplog.text


async def test_postgresql_has_no_checkpointer(database_url: str) -> None:
    engine, checkpointer = serving_engine(database_url)
    try:
        assert (checkpointer is None) == (engine.dialect.name == "postgresql")
    finally:
        await engine.dispose()


async def test_a_group_commit_run_in_the_driver_thread_wakes_the_checkpointer(
    tmp_path: Path,
) -> None:
    """The envelopes' group commit runs its COMMIT in the driver's thread, past SQLAlchemy
    (hub.storage.batch): the checkpointer must still hear of it, or a submit-only load would grow
    the WAL to the hard bound and have a commit copy it all."""
    db = tmp_path / "hub.db"
    engine = create_engine(default_sqlite_url(tmp_path), wal_autocheckpoint=HARD_BOUND_PAGES)
    checkpointer = WalCheckpointer(db, interval=0.01, idle=3600)  # no idle pass in this test
    checkpointer.attach(engine)
    parts = Table(
        "parts", MetaData(), Column("id", Integer, primary_key=True), Column("data", LargeBinary)
    )

    def plan(dialect: str) -> batch.Plan[None]:
        yield batch.Steps([batch.Step(insert(parts), rows=[{"data": os.urandom(PART)}])])

    try:
        await _table(engine)
        await asyncio.to_thread(checkpointer.start)
        await _eventually(lambda: checkpointer.checkpoints >= 1, "the checkpoint at start")
        before, copied = _size(db), checkpointer.checkpoints
        await batch.transaction(engine, plan)
        await _eventually(lambda: checkpointer.checkpoints > copied, "a checkpoint after the plan")
        await _eventually(lambda: _size(db) >= before + PART, "the plan's row in hub.db")
    finally:
        await engine.dispose()
        await asyncio.to_thread(checkpointer.stop)
