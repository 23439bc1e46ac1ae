"""Tampering with the hub's database is caught by `pgs audit verify`, on SQLite and PostgreSQL.

After real traffic and verified runs (so the auditor holds checkpoints), the log's rows are
changed with direct SQL — an entry's bytes altered, an entry deleted, two swapped, one inserted,
the tail truncated, the whole log rolled back — at the first, a middle and the last position, each
case on the same baseline restored afterwards. Every case must make `pgs audit verify` exit 3
naming the FIRST bad index (or, for a rollback, the consistency failure against the checkpoint the
auditor stored). Then the database is forked: an older copy is restored under the running hub,
which then serves a smaller tree, another tree of a size already seen, and a larger tree that
does not extend it. The detection rate is printed and must be 100%.

The verifier is the real `pgs` command, invoked in-process (click's runner, in a worker thread)
to keep some forty runs fast; tests/e2e/test_audit_tools.py runs it as a subprocess.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.crypto.merkle import CompactRange, leaf_hash, range_nodes
from pgs_hub.hub.cli import main
from pgs_hub.hub.services.rollback import HIGH_WATER_FILE
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import (
    audit_record_countries,
    audit_records,
    log_checkpoints,
    log_nodes,
    log_state,
)
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.test_audit_tools import (
    AUDITOR,
    GH,
    GH_AUDITOR,
    NG,
    WCO,
    Ran,
    connection,
    enrol_world,
    exchange,
)

EXIT_LOG_INVALID = 3
# Children first: deleting goes in this order, inserting in the reverse one.
TABLES = (audit_record_countries, audit_records, log_nodes, log_state, log_checkpoints)


# Global auditors taking turns: some forty runs by one participant would reach the hub's rate
# limit (600 requests a minute, bursts of 100); the state file is the same whoever runs it.
AUDITORS = (AUDITOR, "WCO-AUDIT-2", "WCO-AUDIT-3", "WCO-AUDIT-4")
_turn = itertools.count()


async def enrol_auditors(hub: RunningHub) -> None:
    await enrol_world(hub)
    for auditor in AUDITORS[1:]:
        await hub.enrol(auditor, "auditor")


async def pgs_verify(hub: RunningHub, state: Path, *extra: str, who: str | None = None) -> Ran:
    """`pgs audit verify` in-process, as ``who`` or else one of the global auditors."""
    who = who or AUDITORS[next(_turn) % len(AUDITORS)]
    args = ["audit", "verify", *map(str, connection(hub, who)), "--state", str(state), *extra]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


# --- direct SQL on the hub's database ----------------------------------------------------------


Snapshot = dict[str, list[dict[str, Any]]]


async def snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in await conn.execute(select(t))] for t in TABLES}


async def restore(engine: AsyncEngine, saved: Snapshot) -> None:
    async with engine.begin() as conn:
        for table in TABLES:
            await conn.execute(delete(table))
        for table in reversed(TABLES):
            if saved[table.name]:
                await conn.execute(insert(table), saved[table.name])


async def row_at(conn: AsyncConnection, index: int) -> dict[str, Any]:
    found = await conn.execute(select(audit_records).where(audit_records.c.log_index == index))
    return dict(found.one()._mapping)


async def drop_rows(conn: AsyncConnection, condition: Any) -> None:
    seqs = [r.seq for r in await conn.execute(select(audit_records.c.seq).where(condition))]
    await conn.execute(delete(audit_record_countries).where(audit_record_countries.c.seq.in_(seqs)))
    await conn.execute(delete(audit_records).where(audit_records.c.seq.in_(seqs)))


def reencoded(entry: bytes, **changes: Any) -> bytes:
    doc = json.loads(entry) | changes
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


async def modify(conn: AsyncConnection, p: int, size: int) -> int:
    """An entry's bytes altered (its time moved by a second)."""
    row = await row_at(conn, p)
    altered = reencoded(row["entry"], at=json.loads(row["entry"])["at"] + 1)
    await conn.execute(
        update(audit_records).where(audit_records.c.log_index == p).values(entry=altered)
    )
    return p


async def remove(conn: AsyncConnection, p: int, size: int) -> int:
    """An entry deleted."""
    await drop_rows(conn, audit_records.c.log_index == p)
    return p


async def swap(conn: AsyncConnection, p: int, size: int) -> int:
    """Two neighbouring entries swapped (their places in the log exchanged)."""
    q = p + 1 if p + 1 < size else p - 1
    column = audit_records.c.log_index
    await conn.execute(update(audit_records).where(column == p).values(log_index=-1))
    await conn.execute(update(audit_records).where(column == q).values(log_index=p))
    await conn.execute(update(audit_records).where(column == -1).values(log_index=q))
    return min(p, q)


async def insert_extra(conn: AsyncConnection, p: int, size: int) -> int:
    """A forged entry inserted at p, the following ones moved up by one (well-formed, with its
    own index: only the hashes give it away)."""
    column = audit_records.c.log_index
    offset = 1_000_000
    await conn.execute(update(audit_records).where(column >= p).values(log_index=column + offset))
    await conn.execute(
        update(audit_records).where(column >= offset).values(log_index=column - offset + 1)
    )
    model = await row_at(conn, p + 1)
    forged = {
        "v": 1, "index": p, "at": model["at"], "event": "access.denied", "actor": NG,
        "subject": model["subject"], "countries": ["NG"],
        "details": {"action": "fetch", "reason": "not_addressed"},
    }  # fmt: skip
    await conn.execute(
        insert(audit_records).values(
            at=model["at"], event="access.denied", actor=NG, subject=model["subject"],
            country="NG", details='{"action":"fetch","reason":"not_addressed"}', log_index=p,
            entry=json.dumps(forged, separators=(",", ":"), sort_keys=True).encode(),
        )
    )  # fmt: skip
    return p


async def truncate(conn: AsyncConnection, p: int, size: int) -> int:
    """Every entry from p on deleted (the tree's own tables left as they were)."""
    await drop_rows(conn, audit_records.c.log_index >= p)
    return p


async def roll_back(conn: AsyncConnection, p: int, size: int, *, forget: bool = True) -> int:
    """The whole log rolled back to p entries, consistently: entries, subtree hashes, frontier
    and (``forget``) the signed checkpoints, as a restore of an old backup would leave it."""
    rows = await conn.execute(
        select(audit_records.c.entry).where(audit_records.c.log_index < p)
        .order_by(audit_records.c.log_index)
    )  # fmt: skip
    state, _ = CompactRange().extend(leaf_hash(r.entry) for r in rows)
    await drop_rows(conn, audit_records.c.log_index >= p)
    nodes = await conn.execute(select(log_nodes.c.level, log_nodes.c.idx))
    for level, idx in [tuple(n) for n in nodes]:
        if (idx + 1) << level > p:
            await conn.execute(
                delete(log_nodes).where(log_nodes.c.level == level, log_nodes.c.idx == idx)
            )
    assert len(range_nodes(0, p)) == len(state.hashes)
    await conn.execute(update(log_state).values(size=p, frontier=b"".join(state.hashes)))
    if forget:
        await conn.execute(delete(log_checkpoints).where(log_checkpoints.c.size > p))
    return -1  # no bad entry: the log is shorter than what the auditor saw


async def roll_back_entries_only(conn: AsyncConnection, p: int, size: int) -> int:
    """Rolled back, but the hub's own record of what it signed kept: it refuses to sign."""
    return await roll_back(conn, p, size, forget=False)


Tamper = Callable[[AsyncConnection, int, int], Awaitable[int]]
KINDS: dict[str, Tamper] = {
    "altered": modify,
    "deleted": remove,
    "swapped": swap,
    "inserted": insert_extra,
    "truncated": truncate,
    "rolled back": roll_back,
    "rolled back under kept checkpoints": roll_back_entries_only,
}


@dataclass
class Tally:
    cases: list[tuple[str, bool, str]] = field(default_factory=list)

    def record(self, name: str, ran: Ran, expected: str) -> None:
        self.cases.append((name, ran.code == EXIT_LOG_INVALID and expected in ran.err, ran.err))

    def report(self, what: str) -> None:
        found = sum(ok for _, ok, _ in self.cases)
        rate = 100 * found / len(self.cases)
        print(f"\n{what}: detected {found}/{len(self.cases)} ({rate:.0f}%)")
        for name, ok, err in self.cases:
            print(f"  {'ok  ' if ok else 'MISS'} {name}: {err.strip()}")
        assert found == len(self.cases), [c for c in self.cases if not c[1]]


@dataclass
class Bench:
    """The running hub, its database, and what three auditors saved before the tampering: a
    global one a third of the way in (``early``), one at the end (``latest``), and Ghana's."""

    hub: RunningHub
    engine: AsyncEngine
    baseline: Snapshot
    folder: Path
    saved: dict[str, Any]
    size: int
    early_size: int
    tally: Tally = field(default_factory=Tally)

    async def verify(self, name: str, *extra: str, who: str | None = None) -> Ran:
        state = self.folder / f"{name}-run.json"
        state.write_text(json.dumps(self.saved[name]))  # a fresh copy of that auditor's state
        return await pgs_verify(self.hub, state, *extra, who=who)

    async def case(self, name: str, tamper: Tamper, p: int, checks: Checks) -> None:
        async with self.engine.begin() as conn:
            bad = await tamper(conn, p, self.size)
        try:
            for label, run, expected in checks(bad):
                self.tally.record(f"{name} ({label})", await run, expected)
        finally:
            await restore(self.engine, self.baseline)


Checks = Callable[[int], list[tuple[str, Awaitable[Ran], str]]]


async def test_every_tampering_is_found_at_its_first_bad_index(
    hub: RunningHub, tmp_path: Path
) -> None:
    await enrol_auditors(hub)
    await exchange(hub, 3)
    saved: dict[str, Any] = {}
    for name, who in (("early", None), ("ghana", GH_AUDITOR), ("latest", None)):
        if name == "latest":  # (7 rounds: refused fetches are no longer log entries)
            await exchange(hub, 7)
        ran = await pgs_verify(hub, tmp_path / f"{name}.json", who=who)
        assert ran.code == 0, ran.err
        saved[name] = json.loads((tmp_path / f"{name}.json").read_text())
    size, early_size = (next(iter(saved[n]["logs"].values()))["size"] for n in ("latest", "early"))
    assert size >= 40
    assert 0 < early_size < size // 2
    engine = create_engine(hub.database_url)
    try:
        bench = Bench(hub, engine, await snapshot(engine), tmp_path, saved, size, early_size)
        for kind, tamper in KINDS.items():
            for where, p in (("first", 0), ("middle", size // 2), ("last", size - 1)):

                def checks(bad: int, p: int = p) -> list[tuple[str, Awaitable[Ran], str]]:
                    if bad < 0:  # a shorter log than the latest auditor saw
                        return [("latest", bench.verify("latest"), "consistency failure")]
                    found = f"first bad index {bad}:"
                    runs: list[tuple[str, Awaitable[Ran], str]] = [
                        ("full re-read", bench.verify("latest", "--full"), found)
                    ]
                    if p >= early_size:  # entries the early auditor has not read yet
                        runs.append(("new entries", bench.verify("early"), found))
                    return runs

                await bench.case(f"{kind} at {p}, {where}", tamper, p, checks)
        # Ghana's auditor sees only its entries and checks their inclusion proofs: an altered
        # entry, and the entries moved by an insertion, are found at the first one it sees.
        # Only entries past what it has already checked: receipts written in the background can
        # land between the early and the Ghana verification, so its size may be the larger. And
        # not the log's last entry: an insertion there moves it past the signed checkpoint, out
        # of what a scoped auditor can see (an inclusion proof shows presence, not absence); the
        # hub then refuses to sign a checkpoint over the rewritten log ("rolled back under kept
        # checkpoints" above), which every auditor's next verification reports.
        ghana_size = next(iter(saved["ghana"]["logs"].values()))["size"]
        visible = [
            r["log_index"] for r in bench.baseline["audit_records"]
            if max(early_size, ghana_size) <= r["log_index"] < size - 1
            and "GH" in json.loads(r["entry"])["countries"]
        ]  # fmt: skip
        assert visible, "Ghana's auditor has no entry left to check past its saved size"
        v = visible[len(visible) // 2]
        for kind, tamper, bad in (("altered", modify, v), ("inserted", insert_extra, v + 1)):

            def scoped(_: int, bad: int = bad) -> list[tuple[str, Awaitable[Ran], str]]:
                run = bench.verify("ghana", who=GH_AUDITOR)
                return [("Ghana's auditor", run, f"first bad index {bad}:")]

            await bench.case(f"{kind} at {v}", tamper, v, scoped)
        # Restored, the log verifies again: nothing was left behind.
        ran = await bench.verify("latest", "--full")
        assert ran.code == 0, ran.err
    finally:
        await engine.dispose()
    bench.tally.report(f"tampering ({hub.database_url.split(':')[0]})")


# --- forks: an older copy of the database restored under the hub ------------------------------


def _admin_dsn() -> str:
    return os.environ.get("PGS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _restart(hub: RunningHub, before_start: Callable[[], Awaitable[None]]) -> None:
    assert hub.stop() == 0, hub.log.read_text()
    await before_start()
    port = int(hub.url.rsplit(":", 1)[1])
    hub.process = await start_hub(hub.home, hub.database_url, port)
    await wait_healthy(hub.url, hub.process, hub.log)


class DatabaseCopy:
    """A copy of the hub's database taken while the hub is stopped, restored the same way."""

    def __init__(self, hub: RunningHub, folder: Path) -> None:
        self.url = make_url(hub.database_url)
        self.folder = folder
        self.copy_name = f"{self.url.database}_fork" if self.is_postgres else ""

    @property
    def is_postgres(self) -> bool:
        return self.url.drivername.startswith("postgresql")

    async def _sql(self, *statements: str) -> None:
        admin = await asyncpg.connect(_admin_dsn())
        try:
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()

    def _sqlite_files(self, base: Path) -> list[Path]:
        return [base.with_name(base.name + suffix) for suffix in ("", "-wal", "-shm")]

    async def take(self) -> None:
        if self.is_postgres:
            await self._sql(f'CREATE DATABASE "{self.copy_name}" TEMPLATE "{self.url.database}"')
            return
        for source in self._sqlite_files(Path(str(self.url.database))):
            if source.exists():
                shutil.copy2(source, self.folder / source.name)

    async def put_back(self) -> None:
        if self.is_postgres:
            await self._sql(
                f'DROP DATABASE "{self.url.database}" WITH (FORCE)',
                f'CREATE DATABASE "{self.url.database}" TEMPLATE "{self.copy_name}"',
            )
            return
        for target in self._sqlite_files(Path(str(self.url.database))):
            target.unlink(missing_ok=True)
            saved = self.folder / target.name
            if saved.exists():
                shutil.copy2(saved, target)

    async def discard(self) -> None:
        if self.is_postgres:
            await self._sql(f'DROP DATABASE IF EXISTS "{self.copy_name}" WITH (FORCE)')


async def _size(hub: RunningHub) -> int:
    async with hub.client(AUDITOR) as auditor:
        _, data = await auditor.request("POST", "/v1/audit/checkpoint")
    return int(json.loads(data)["size"])


async def test_a_forked_view_is_found(hub: RunningHub, tmp_path: Path) -> None:
    await enrol_auditors(hub)
    await exchange(hub, 2)
    (tmp_path / "copy").mkdir()
    copy = DatabaseCopy(hub, tmp_path / "copy")
    await _restart(hub, copy.take)
    try:
        old_size = await _size(hub)
        await exchange(hub, 2)
        state = tmp_path / "state.json"
        ran = await pgs_verify(hub, state)
        assert ran.code == 0, ran.err
        seen = json.loads(state.read_text())
        size = next(iter(seen["logs"].values()))["size"]
        assert size > old_size

        # The hub now serves the older database. A hub that still has its high-water mark
        # refuses to (tests/e2e/test_backup_restore.py); this one has lost it, or lies, and the
        # auditor must catch it on its own.
        (hub.home / HIGH_WATER_FILE).unlink()
        await _restart(hub, copy.put_back)
        tally = Tally()
        ran = await pgs_verify(hub, state)
        tally.record(f"smaller tree ({old_size} < {size})", ran, "consistency failure")
        state.write_text(json.dumps(seen))
        async with hub.client(GH) as gh:  # other traffic on the old copy, up to the same size
            while await _size(hub) < size:
                await gh.send(
                    kind=MessageKind.SEIZURE, content=example(MessageKind.SEIZURE), to=[WCO]
                )
        assert await _size(hub) == size
        ran = await pgs_verify(hub, state)
        tally.record(f"another tree of size {size}", ran, "two different trees")
        state.write_text(json.dumps(seen))
        async with hub.client(GH) as gh:
            await gh.send(kind=MessageKind.SEIZURE, content=example(MessageKind.SEIZURE), to=[WCO])
        ran = await pgs_verify(hub, state)
        tally.record(f"a larger tree that does not extend {size}", ran, "does not extend")
        tally.report(f"forks ({hub.database_url.split(':')[0]})")
    finally:
        await copy.discard()
