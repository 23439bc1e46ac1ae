"""What storing one attachment part costs, in an SQLite row or as a file (issue 17):
``python -m bench.part_store``.

Before the twelfth round of issue 17 a tus PATCH stored its part as a blob in ``upload_parts``;
SQLite writes a blob page by page into its WAL (a frame and a ``write`` per 4 KiB page) and copies
it into the database again at the checkpoint. On SQLite the hub now writes the part to a file of
its own and fsyncs it (:class:`hub.storage.part_files.PartFiles`), and the row only names it.
This stores parts of ``--mib`` MiB both ways, in turns (``--rounds``), in a database made with
the hub's own engine settings (WAL, ``synchronous=FULL``) in the system's temporary folder: the
row way as the hub did (one ``BEGIN IMMEDIATE``, the ``INSERT``, the ``COMMIT``), plus the
checkpoint that later copies it; the file way as the hub does now (the file, its ``fsync`` and
its folder's, then the row that names it). It reports wall and CPU time per part (this process,
every thread), and the file way's ratio to the row way.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pgs_hub.hub.storage.part_files import PartFiles

SCHEMA = (
    "CREATE TABLE upload_parts (upload_id TEXT NOT NULL, position BIGINT NOT NULL,"
    " data BLOB NOT NULL, file TEXT, PRIMARY KEY (upload_id, position))"
)


def _database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "wal_autocheckpoint=16384"):
        db.execute(f"PRAGMA {pragma}")
    db.execute(SCHEMA)
    return db


def _in_row(db: sqlite3.Connection, position: int, data: bytes) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO upload_parts VALUES ('u', ?, ?, NULL)", (position, data))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # what the hub's checkpointer does later


def _as_file(db: sqlite3.Connection, files: PartFiles, position: int, data: bytes) -> None:
    name = files.write("u", position, data)
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO upload_parts VALUES ('u', ?, x'', ?)", (position, name))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run(mib: int, rounds: int) -> dict[str, Any]:
    data = os.urandom(mib << 20)
    timed: dict[str, dict[str, list[float]]] = {
        way: {"wall_ms": [], "cpu_ms": []} for way in ("row", "file")
    }
    with tempfile.TemporaryDirectory(prefix="pgs-part-store-") as folder:
        db = _database(Path(folder) / "hub.db")
        files = PartFiles(Path(folder) / "hub.db-parts")
        try:
            for n in range(rounds):
                for way in ("row", "file") if n % 2 == 0 else ("file", "row"):
                    position = (2 * n + (way == "file")) * len(data)
                    wall, cpu = time.perf_counter(), time.process_time()
                    if way == "row":
                        _in_row(db, position, data)
                    else:
                        _as_file(db, files, position, data)
                    timed[way]["wall_ms"].append(1000 * (time.perf_counter() - wall))
                    timed[way]["cpu_ms"].append(1000 * (time.process_time() - cpu))
        finally:
            db.close()
    medians = {
        way: {k: statistics.median(v) for k, v in figures.items()} for way, figures in timed.items()
    }
    return {
        "part_mib": mib,
        "rounds": rounds,
        "median": medians,
        "file_over_row": {k: medians["file"][k] / medians["row"][k] for k in ("wall_ms", "cpu_ms")},
        "runs": timed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=8, help="part size in MiB (default 8)")
    parser.add_argument("--rounds", type=int, default=12, help="parts stored each way")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    found = run(args.mib, args.rounds)
    for way in ("row", "file"):
        m = found["median"][way]
        print(f"{way:>4}: {m['wall_ms']:7.1f} ms wall, {m['cpu_ms']:7.1f} ms CPU per part (median)")
    ratio = found["file_over_row"]
    print(f"file / row: x{ratio['wall_ms']:.2f} wall, x{ratio['cpu_ms']:.2f} CPU")
    if args.json:
        args.json.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
