"""A group commit on SQLite (hub.storage.batch.transaction): the plan's statements run on the event
loop, ``BEGIN IMMEDIATE`` too (tried again every few milliseconds while another connection holds
the write lock, the loop free in between), and only the ``COMMIT`` (its fsync) goes to the
connection's thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pooled import only_connection
from sqlalchemy import Column, Integer, MetaData, Table, event, insert, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage import batch
from pgs_hub.hub.storage.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_engine,
    default_sqlite_url,
    read_only,
)

ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("v", Integer))


def _plan(values: list[int], threads: list[int]) -> Iterator[batch.Steps]:
    threads.append(threading.get_ident())
    yield batch.Steps([batch.Step(insert(ROWS), rows=[{"v": v} for v in values])])
    threads.append(threading.get_ident())


def _stored(path: Path) -> list[int]:
    db = sqlite3.connect(path / "hub.db")
    try:
        return [v for (v,) in db.execute("SELECT v FROM rows ORDER BY id")]
    finally:
        db.close()


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    engine = create_engine(default_sqlite_url(tmp_path))
    async with engine.begin() as conn:
        await conn.run_sync(ROWS.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


class _CountedQueue:
    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.puts: list[Any] = []

    def put_nowait(self, item: Any) -> None:
        self.puts.append(item[1])
        self.queue.put_nowait(item)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.queue.get(*args, **kwargs)


async def test_the_plan_runs_on_the_loop_and_only_the_commit_goes_to_the_thread(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    driver = await only_connection(engine)
    counted = _CountedQueue(driver._tx)
    driver._tx = counted  # type: ignore[assignment]
    threads: list[int] = []
    try:
        await batch.transaction(engine, lambda _dialect: _plan([1, 2, 3], threads))
    finally:
        driver._tx = counted.queue
    assert threads == [threading.get_ident()] * 2  # the plan's Python ran on the loop's thread
    assert len(counted.puts) == 1  # one hand-off: the COMMIT (BEGIN was sent from the loop)
    assert _stored(tmp_path) == [1, 2, 3]  # committed, for another connection to read
    async with engine.connect() as conn:  # the busy timeout set to 0 for the BEGIN is restored
        assert await conn.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS


class _Begins:
    """The ``BEGIN IMMEDIATE`` statements an engine's connections tried (before_cursor_execute)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.tried = 0

    def __call__(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement == batch.SQLITE_BEGIN:
            self.tried += 1

    def __enter__(self) -> _Begins:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self)


async def test_a_held_write_lock_is_waited_for_with_the_loop_free_and_tried_again_often(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Another connection holds the write lock: the BEGIN is tried again on the loop every few
    milliseconds, the loop free in between (not in the thread with SQLite's busy handler, whose
    sleeps grow to 100 ms), and the plan runs once the lock is free. A BEGIN on the loop with
    the configured timeout would stall the loop; one with no timeout and no retry would fail."""
    driver = await only_connection(engine)
    counted = _CountedQueue(driver._tx)
    driver._tx = counted  # type: ignore[assignment]
    other = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
    try:
        with _Begins(engine) as begins:
            other.execute("BEGIN IMMEDIATE")
            threads: list[int] = []
            commit = asyncio.create_task(batch.transaction(engine, lambda _d: _plan([7], threads)))
            turns = 0
            for _ in range(20):  # the loop keeps turning while the commit waits for the lock
                await asyncio.sleep(0.01)
                turns += 1
            assert turns == 20
            assert not commit.done()
            assert threads == []  # the plan has not started: it would write without the lock
            # 200 ms of retries 0.5-2 ms apart; SQLite's busy handler would have tried about 8
            # times, once from the loop and then in the thread
            assert begins.tried >= 20, begins.tried
            other.execute("ROLLBACK")
            await commit
    finally:
        driver._tx = counted.queue
        other.close()
    assert threads == [threading.get_ident()] * 2
    assert len(counted.puts) == 1  # the COMMIT only: the waiting was on the loop
    assert _stored(tmp_path) == [7]
    async with engine.connect() as conn:
        assert await conn.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS


async def test_a_lock_held_past_the_busy_timeout_is_database_locked_and_nothing_is_written(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The retries stop at the connection's busy timeout: the transaction fails with SQLite's
    "database is locked" (which the API answers 503), its plan never ran, and the connection
    serves the next transaction once the lock is free."""
    driver = await only_connection(engine)
    driver.sqlite3_connection.execute("PRAGMA busy_timeout=50")
    other = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
    threads: list[int] = []
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            await batch.transaction(engine, lambda _d: _plan([8], threads))
        assert threads == []
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert _stored(tmp_path) == []
    await batch.transaction(engine, lambda _d: _plan([9], threads))
    assert _stored(tmp_path) == [9]


async def test_a_read_still_ending_in_the_thread_is_over_before_the_commit_begins(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The read transaction's rollback is queued, not waited for (hub.storage.sqlite_driver); a
    group commit handed the same connection must not begin on the loop before the thread has run
    it (it would begin inside the read's transaction, or the rollback would undo its rows)."""
    driver = await only_connection(engine)
    gate = threading.Event()
    async with read_only(engine).connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM rows")) == 0
        driver._tx.put_nowait((None, gate.wait))  # the thread is busy until the gate opens
    assert not driver.at_rest  # the read's rollback is queued behind the gate
    threads: list[int] = []
    commit = asyncio.create_task(batch.transaction(engine, lambda _d: _plan([4, 5], threads)))
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert not commit.done()
    assert threads == []  # waiting behind the rollback, in the thread's queue
    gate.set()
    await commit
    assert driver.at_rest
    assert threads == [threading.get_ident()] * 2
    assert _stored(tmp_path) == [4, 5]


async def test_a_plan_that_fails_on_the_loop_is_rolled_back_and_the_connection_reused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    def failing(_dialect: str) -> Iterator[batch.Steps]:
        yield batch.Steps([batch.Step(insert(ROWS), rows=[{"v": 1}])])
        raise ValueError("the plan gives up")

    with pytest.raises(ValueError, match="gives up"):
        await batch.transaction(engine, failing)
    threads: list[int] = []
    await batch.transaction(engine, lambda _d: _plan([2], threads))
    assert _stored(tmp_path) == [2]
