"""What SQLite's statement journal costs a group commit of envelopes (issue 17):
``python -m bench.statement_journal``.

The envelope writer stores a batch in a SAVEPOINT (:mod:`hub.services.writers`), and SQLite keeps
the first copy of every page changed inside it in a statement journal; past 64 KiB that journal
goes to a temporary file, created, written and deleted for every batch, on the event loop. The
writer's own connection keeps it in memory (``PRAGMA temp_store=MEMORY``,
:mod:`hub.storage.kept_connection`). This runs the writer's real transactions
(:func:`hub.services.writers.store_accepted`) on a migrated SQLite file in the system's temporary
folder, batches of ``--sizes`` envelopes of 5 kB to two recipients each, with the connection's
``temp_store`` set back to SQLite's default and as the hub sets it, in turns (``--rounds``), and
reports the event loop's CPU time and the wall time per batch (the ``COMMIT``'s ``fsync`` runs in
the driver's thread: in the wall time, not the loop's CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import tempfile
import time
from typing import Any

from pgs_hub.hub.services import writers
from pgs_hub.hub.storage import audit, envelopes, participants, sqlite_driver
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.kept_connection import KeptConnection
from pgs_hub.hub.storage.migrate import upgrade

NOW = 1_800_000_000
BODY = os.urandom(2600).hex().encode()  # 5,200 bytes that do not compress, as ciphertext
WAYS = {"default": "DEFAULT", "hub": "MEMORY"}


async def _enrol(engine: Any) -> None:
    async with engine.begin() as conn:
        for pid, country in (("fr-1", "FR"), ("de-1", "DE"), ("nl-1", "NL")):
            await participants.insert_participant(
                conn,
                participants.ParticipantRow(pid, country, "ncp", None, "active", NOW, NOW),
            )
            keys = [_key(pid, use) for use in ("sig", "enc")]
            await participants.add_keys(conn, keys)


def _key(pid: str, use: Any) -> participants.KeyRow:
    kid = f"{pid}-{use}-1"
    return participants.KeyRow(
        kid, pid, use, "{}", f"certificate-of-{kid}", kid, "current", NOW, None
    )


def _item(n: int) -> writers.AcceptedEnvelope:
    mid = f"m-{n}"
    raw = BODY + mid.encode()
    row = envelopes.EnvelopeRow(
        seq=None, mid=mid, sender_id="fr-1", sender_kid="fr-1-sig-1", kind="alert", tlp="AMBER",
        grp=None, iat=NOW, exp=NOW + 3600, size=len(raw), sha256=hashlib.sha256(raw).digest(),
        raw=raw, accepted_at=NOW + 1, thread=None, irt=None,
    )  # fmt: skip
    record = audit.NewRecord(NOW, "envelope.accepted", "fr-1", mid, "FR", {"mid": mid})
    return writers.AcceptedEnvelope(row, (("de-1", "de-1-enc-1"), ("nl-1", "nl-1-enc-1")), record)


async def _measure(way: str, size: int, batches: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/hub.db"
        await upgrade(url)
        engine = create_engine(url)
        kept = KeptConnection(engine)
        try:
            await _enrol(engine)
            count = iter(range(10**9))
            await writers.store_accepted(kept, [_item(next(count))])  # takes the connection
            taken = kept.connection
            if taken is None:
                raise RuntimeError("the writer kept no connection")
            driver = (await taken.get_raw_connection()).driver_connection
            if not isinstance(driver, sqlite_driver.Connection):
                raise TypeError("not the hub's SQLite driver")
            driver.sqlite3_connection.execute(f"PRAGMA temp_store={WAYS[way]}")
            for _ in range(50):  # warm the caches and the statement cache
                await writers.store_accepted(kept, [_item(next(count)) for _ in range(size)])
            cpu, wall = time.thread_time(), time.perf_counter()
            for _ in range(batches):
                await writers.store_accepted(kept, [_item(next(count)) for _ in range(size)])
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        finally:
            await kept.close()
            await engine.dispose()
    return {"loop_cpu_us": cpu / batches * 1e6, "wall_us": wall / batches * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,8,32", help="envelopes per batch, comma-separated")
    parser.add_argument("--batches", type=int, default=400, help="timed batches per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each way, in turns")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    report: dict[str, Any] = {"batches": args.batches, "rounds": args.rounds, "sizes": {}}
    for size in (int(s) for s in args.sizes.split(",")):
        runs: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
        for n in range(args.rounds):
            for way in WAYS if n % 2 == 0 else reversed(WAYS):
                runs[way].append(asyncio.run(_measure(way, size, args.batches)))
        report["sizes"][str(size)] = runs
        for way, found in runs.items():
            cpu = [r["loop_cpu_us"] for r in found]
            wall = [r["wall_us"] for r in found]
            print(
                f"batches of {size:3d}, temp_store {WAYS[way]:7s}: loop CPU per batch "
                f"{statistics.median(cpu):7.0f} us ({min(cpu):.0f}-{max(cpu):.0f}), wall "
                f"{statistics.median(wall):7.0f} us ({min(wall):.0f}-{max(wall):.0f})"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)


if __name__ == "__main__":
    main()
