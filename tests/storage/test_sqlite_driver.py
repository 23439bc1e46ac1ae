"""The SQLite connections of the hub's engine (hub.storage.sqlite_driver): one hand-off to the
connection's thread per statement, and otherwise what plain aiosqlite gives."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from pooled import only_connection
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage import sqlite_driver
from pgs_hub.hub.storage.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_engine,
    default_sqlite_url,
    read_only,
)


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


class _CountedQueue:
    """The connection's queue to its thread, counting what is put on it (each put wakes the
    thread and, when the caller waits, the event loop once more)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.puts = 0

    def put_nowait(self, item: Any) -> None:
        self.puts += 1
        self.queue.put_nowait(item)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.queue.get(*args, **kwargs)


async def test_a_one_statement_read_wakes_the_thread_once_and_is_not_waited_for_at_its_end(
    tmp_path: Path,
) -> None:
    """BEGIN travels with the SELECT; the read's rollback is queued without waiting; the cursor
    closes in the thread. Plain aiosqlite: BEGIN, SELECT, two closes, the rollback (5 puts)."""
    engine = create_engine(default_sqlite_url(tmp_path))
    reader = read_only(engine)
    try:
        async with reader.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite_driver.Connection)
            counted = _CountedQueue(raw._tx)
            raw._tx = counted  # type: ignore[assignment]
            assert await conn.scalar(text("SELECT 41 + 1")) == 42
        assert counted.puts == 2  # the statement (with its BEGIN), then the queued rollback
        raw._tx = counted.queue
    finally:
        await engine.dispose()


async def test_a_write_transaction_holds_the_write_lock_from_its_first_statement(
    tmp_path: Path,
) -> None:
    url = default_sqlite_url(tmp_path)
    engine = create_engine(url)
    other = sqlite3.connect(tmp_path / "hub.db", timeout=0, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        async with engine.begin():
            # No statement yet: nothing was sent, so nothing is locked.
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        async with engine.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))  # a read, but BEGIN IMMEDIATE
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        other.execute("BEGIN IMMEDIATE")  # released at the commit
        other.execute("ROLLBACK")
        assert other.execute("SELECT v FROM t").fetchall() == [(1,)]
    finally:
        other.close()
        await engine.dispose()


async def test_a_read_is_over_before_the_next_user_of_its_connection_begins(
    tmp_path: Path,
) -> None:
    """The queued rollback runs before anything queued after it: the next user of the connection
    (the pool may hand it out at once) begins a write on it straight away, and the read's snapshot
    no longer holds back a checkpoint."""
    engine = create_engine(default_sqlite_url(tmp_path))
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
    finally:
        await engine.dispose()
    db = await sqlite_driver.connect(str(tmp_path / "hub.db"))
    try:
        db._conn.isolation_level = None  # as the engine sets it: BEGIN is the caller's
        for n in range(20):
            async with db.cursor() as cursor:
                await cursor.execute("BEGIN")
                await cursor.execute("SELECT count(*) FROM t")
                assert await cursor.fetchall() == [(n,)]
            await db.rollback()  # queued, not waited for
            async with db.cursor() as cursor:
                await cursor.execute("BEGIN IMMEDIATE")
                await cursor.execute("INSERT INTO t VALUES (?)", (n,))
            await db.commit()
        async with db.cursor() as cursor:
            await cursor.execute("BEGIN")
            await cursor.execute("SELECT count(*) FROM t")
            assert await cursor.fetchall() == [(20,)]
        await db.rollback()
        async with db.cursor() as cursor:  # runs after the rollback: the read is over
            await cursor.execute("SELECT 1")
        checkpoint = sqlite3.connect(tmp_path / "hub.db", timeout=5)
        try:
            busy, _, _ = checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            checkpoint.close()
        assert busy == 0  # no reader left in a transaction on the driver's connection
    finally:
        await db.close()


class _Tries:
    """Every ``BEGIN IMMEDIATE`` the ``sqlite3`` connection started (its trace callback, called in
    whichever thread runs the statement). SQLite's busy handler retries inside one statement, so
    it shows once however long it waits; tries from the loop show one each."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.begins = 0
        self.threads: set[int] = set()

    def __call__(self, statement: str) -> None:
        if statement == sqlite_driver.IMMEDIATE:
            self.begins += 1
            self.threads.add(threading.get_ident())

    def __enter__(self) -> _Tries:
        self.db.set_trace_callback(self)
        return self

    def __exit__(self, *_: object) -> None:
        self.db.set_trace_callback(None)


async def _insert(engine: AsyncEngine, v: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": v})


@pytest.fixture
async def locked(tmp_path: Path) -> Any:
    """An engine with a table ``t`` and one pooled connection (its driver connection), and
    another ``sqlite3`` connection to take the write lock with."""
    engine = create_engine(default_sqlite_url(tmp_path))
    other = sqlite3.connect(tmp_path / "hub.db", timeout=0, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        yield engine, await only_connection(engine), other
    finally:
        other.close()
        await engine.dispose()


async def test_a_writing_transaction_waits_for_the_lock_on_the_loop(locked: Any) -> None:
    """Another connection holds the write lock: the transaction's ``BEGIN IMMEDIATE`` is tried
    again on the event loop every few milliseconds, the loop free in between, not in the thread
    in SQLite's busy handler (whose sleeps grow to 100 ms); its statement runs once the lock is
    free, and the busy timeout, set to 0 for each try, is restored."""
    engine, driver, other = locked
    with _Tries(driver.sqlite3_connection) as tries:
        other.execute("BEGIN IMMEDIATE")
        writing = asyncio.create_task(_insert(engine, 1))
        turns = 0
        for _ in range(20):  # the loop keeps turning while the transaction waits
            await asyncio.sleep(0.01)
            turns += 1
        assert turns == 20
        assert not writing.done()
        # 200 ms of tries 0.5-2 ms apart; the busy handler would show one (sleeping inside it)
        assert tries.begins >= 20, tries.begins
        assert tries.threads == {threading.get_ident()}  # all of them on the loop's thread
        other.execute("ROLLBACK")
        await writing
    assert other.execute("SELECT v FROM t").fetchall() == [(1,)]
    async with engine.connect() as conn:
        assert await conn.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS


async def test_a_lock_held_past_the_busy_timeout_fails_the_transaction_cleanly(
    locked: Any,
) -> None:
    """The tries stop at the connection's busy timeout: "database is locked", nothing written,
    no transaction left open, and the same connection serves the next one."""
    engine, driver, other = locked
    driver.sqlite3_connection.execute("PRAGMA busy_timeout=50")
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="database is locked"):
        await _insert(engine, 2)
    other.execute("ROLLBACK")
    assert not driver.sqlite3_connection.in_transaction
    assert driver.at_rest
    await _insert(engine, 3)
    assert await only_connection(engine) is driver
    assert other.execute("SELECT v FROM t").fetchall() == [(3,)]


async def test_a_read_transaction_still_begins_in_the_thread(locked: Any) -> None:
    """A deferred ``BEGIN`` (the read-only view) takes no lock: it goes with its first statement
    to the thread, as before, and does not wait for a writer."""
    engine, _driver, other = locked
    other.execute("BEGIN IMMEDIATE")
    async with read_only(engine).connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM t")) == 0
    other.execute("ROLLBACK")


async def test_a_file_that_cannot_be_opened_leaves_no_thread_behind(tmp_path: Path) -> None:
    """aiosqlite stops a failed connection's thread without waiting for it, and that thread then
    answers on the loop: after ``asyncio.run`` has closed it (``pgs db upgrade`` on a path that
    cannot be opened), it printed "Event loop is closed" twice with its traceback. ``connect``
    waits for the thread before the error goes on."""

    def workers() -> set[threading.Thread]:  # aiosqlite's: "Thread-N (_connection_worker_thread)"
        return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}

    before = workers()
    with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
        await sqlite_driver.connect(str(tmp_path / "no-such-folder" / "hub.db"))
    assert [t for t in workers() - before if t.is_alive()] == []
