"""How long a group commit's ``BEGIN IMMEDIATE`` waits when another connection holds SQLite's
write lock (issue 17, the p99 tail): ``python -m bench.begin_wait``.

Another connection, in a thread of its own, takes the write lock over and over (``BEGIN
IMMEDIATE``, held ``--hold`` ms, ``COMMIT``, free for a random 0 to ``--gap`` ms), as an
administrator's enrolment or a retention sweep would. Meanwhile the event loop runs small
transactions (0 to ``--pause`` ms apart) through :func:`hub.storage.batch.transaction_on`, as
the nonce writer does, and the wall time of each is recorded. Two ways of waiting for the lock,
in turns:

* ``busy-handler``: the ``BEGIN`` goes to the connection's thread, where SQLite's busy handler
  waits for the lock by sleeping 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms between
  tries;
* ``hub``: what :func:`hub.storage.batch.transaction_on` does now;

and the same two ways for a transaction begun by SQLAlchemy (``async with engine.begin()``, one
``INSERT``), as the hub's other writers run theirs (receipts, administration, security events,
housekeeping): ``engine-busy-handler`` (the held ``BEGIN`` goes to the thread with the statement,
as it did before) and ``engine-hub`` (:meth:`hub.storage.sqlite_driver.Connection.begin_waiting`,
now). ``--waiters N`` runs N such loops of transactions at once, each on its own connection:
what N transactions trying again on the loop cost together.

Prints p50 / p99 / max per way, of our transactions and of the other writer's waits for the
lock (is it starved?), and the event loop's CPU time per transaction (what the retries cost);
writes them as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from sqlalchemy import text

from pgs_hub.hub.storage import batch, sqlite_driver
from pgs_hub.hub.storage.batch import Step, Steps
from pgs_hub.hub.storage.engine import create_engine


class OtherWriter:
    """The other connection's schedule, in a thread: how long each of its BEGINs waited for the
    lock, filed under the way of waiting being measured meanwhile (``now``; empty: none)."""

    def __init__(self, path: Path, hold_ms: float, gap_ms: float) -> None:
        self.path, self.hold_ms, self.gap_ms = path, hold_ms, gap_ms
        self.now = ""
        self.waits: dict[str, list[float]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        rng = random.Random(7)  # noqa: S311 - a schedule, not a secret
        try:
            while not self.stop.is_set():
                way, started = self.now, time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                if way:
                    self.waits.setdefault(way, []).append((time.perf_counter() - started) * 1000)
                conn.execute("INSERT INTO other (at) VALUES (?)", (time.time(),))
                time.sleep(self.hold_ms / 1000)
                conn.execute("COMMIT")
                time.sleep(rng.uniform(0, self.gap_ms) / 1000)
        finally:
            conn.close()


def one_row(n: int) -> Generator[Steps, Any, None]:
    yield Steps([Step(text("INSERT INTO mine (n) VALUES (:n)"), [{"n": n}])])


async def _leave_held(_driver: Any) -> None:
    """The driver as it was: a held ``BEGIN IMMEDIATE`` goes to the thread with the statement."""


async def _loop_of(
    engine: Any, way: str, count: int, *, pause_ms: float, seed: int, walls: list[float]
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a schedule, not a secret
    async with engine.connect() as conn:
        for n in range(count):
            started = time.perf_counter()
            if way.startswith("engine"):
                async with conn.begin():
                    await conn.execute(text("INSERT INTO mine (n) VALUES (:n)"), {"n": n})
            else:
                await batch.transaction_on(conn, lambda _dialect, n=n: one_row(n))  # type: ignore[misc]
            walls.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(rng.uniform(0, pause_ms) / 1000)


async def measure(
    path: Path, way: str, count: int, pause_ms: float, cpu: dict[str, float], *, waiters: int = 1
) -> list[float]:
    """``count`` transactions waiting for the lock the ``way`` given, in ``waiters`` loops at
    once; their wall times (ms). The loop thread's CPU time over them is added to ``cpu[way]``
    (retrying on the loop costs some)."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    original, held = batch._begin_waiting, sqlite_driver.Connection.begin_held_on_loop
    if way == "busy-handler":

        async def in_thread(driver: Any, target: Any) -> None:
            await driver.run_in_thread(batch._sqlite_statement, target, batch.SQLITE_BEGIN)

        batch._begin_waiting = in_thread  # type: ignore[assignment]
    if way == "engine-busy-handler":
        sqlite_driver.Connection.begin_held_on_loop = _leave_held  # type: ignore[method-assign]
    walls: list[float] = []
    try:
        used = time.thread_time()
        each = max(1, count // waiters)
        await asyncio.gather(
            *(
                _loop_of(engine, way, each, pause_ms=pause_ms, seed=11 + k, walls=walls)
                for k in range(waiters)
            )
        )
        cpu[way] = cpu.get(way, 0.0) + time.thread_time() - used
    finally:
        batch._begin_waiting = original  # type: ignore[assignment]
        sqlite_driver.Connection.begin_held_on_loop = held  # type: ignore[method-assign]
        await engine.dispose()
    return walls


def summary(walls: list[float]) -> dict[str, float]:
    ordered = sorted(walls)
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hold", type=float, default=20.0, help="ms the other writer holds the lock"
    )
    parser.add_argument(
        "--gap", type=float, default=20.0, help="at most this many ms between its holds"
    )
    parser.add_argument(
        "--pause", type=float, default=8.0, help="at most this many ms between transactions"
    )
    parser.add_argument("--count", type=int, default=300, help="transactions per way and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--waiters", type=int, default=1, help="loops of transactions at once (engine ways)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    ways = ("busy-handler", "hub", "engine-busy-handler", "engine-hub")
    results: dict[str, list[float]] = {way: [] for way in ways}
    cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wait.db"
        setup = sqlite3.connect(path)
        setup.executescript(
            "PRAGMA journal_mode=WAL; CREATE TABLE other (at REAL); CREATE TABLE mine (n INTEGER);"
        )
        setup.close()
        other = OtherWriter(path, args.hold, args.gap)
        thread = threading.Thread(target=other.run)
        thread.start()
        try:
            for _ in range(args.rounds):
                for way in results:
                    other.now = way
                    waiters = args.waiters if way.startswith("engine") else 1
                    results[way] += await measure(
                        path, way, args.count, args.pause, cpu, waiters=waiters
                    )
                    other.now = ""
        finally:
            other.stop.set()
            thread.join()
    figures = {
        "benchmark": "begin_wait",
        "parameters": {
            "hold_ms": args.hold,
            "gap_ms": args.gap,
            "pause_ms": args.pause,
            "count": args.count,
            "rounds": args.rounds,
            "waiters": args.waiters,
        },
        "sqlite": sqlite3.sqlite_version,
        **{way: summary(walls) for way, walls in results.items()},
        "loop_cpu_ms_per_transaction": {
            way: round(cpu[way] * 1000 / len(walls), 3) for way, walls in results.items()
        },
        "other_writer_begin": {way: summary(other.waits.get(way, [])) for way in results},
    }
    for way in results:
        print(way, figures[way], "; the other writer's BEGIN:", figures["other_writer_begin"][way])
        per = figures["loop_cpu_ms_per_transaction"][way]
        print("   the loop's CPU per transaction:", per, "ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
