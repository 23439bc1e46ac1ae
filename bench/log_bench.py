"""Benchmark of the Merkle audit log on the embedded SQLite default (see bench/README.md).

Four measurements, each reported against a baseline measured in the same run:

1. appends with :func:`hub.storage.audit.append_record` (1,000 per transaction, and 1 per
   transaction), against inserting the same rows into plain copies of the audit tables;
2. building a log of N entries in batched transactions (the build time is reported);
3. proofs from a real ``python -m pgs_hub serve`` process over loopback HTTP, against ``/v1/health``
   and the authenticated ``/v1/groups``; and the proof generation inside the hub's services,
   against the same SQL run by the standard ``sqlite3`` module;
4. full verification: every entry downloaded in pages, the root recomputed with
   :class:`crypto.merkle.CompactRange` and compared to a signed checkpoint, against the
   recomputation alone.

Run ``.venv/bin/python bench/log_bench.py --quick`` (20,000 entries, well under a minute) or
without ``--quick`` for 10**6 entries (several minutes). Nothing here asserts a time: figures and
ratios are printed and written to ``bench/results/``. Correctness checks (proofs verify, the root
matches the signed checkpoint, the fast build writes what ``append_record`` writes) do fail the
run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import MetaData, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import (
    CompactRange,
    NodeId,
    ProofPlan,
    consistency_plan,
    inclusion_plan,
    leaf_hash,
    root_from_leaves,
    verify_inclusion,
)
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, parse_verifier_key, verify_checkpoint
from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClient
from pgs_hub.hub.enrolment import bootstrap_admin, certify
from pgs_hub.hub.home import POLICY_FILE, load_config, sqlite_url, write_home
from pgs_hub.hub.hub_keys import load_or_create_hub_key
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.policy.model import load_policy_file
from pgs_hub.hub.services import auditlog
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.storage import audit, log
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.migrate import upgrade
from pgs_hub.hub.storage.tables import audit_record_countries, audit_records, log_nodes, log_state
from pgs_hub.protocols.api import LogEntries
from pgs_hub.protocols.certificates import WCO

FULL_ENTRIES: Final = 1_000_000
QUICK_ENTRIES: Final = 20_000
BATCH: Final = 1_000  # records per transaction, for the append rate and the build
PAGE: Final = auditlog.MAX_ENTRIES  # entries per GET /v1/audit/entries page (the hub's maximum)
PROOF_TARGET_MS: Final = 2.0  # the target for proof generation at 10**6 entries
VERIFY_TARGET_S: Final = 20.0  # the target for verifying 10**6 entries
START_AT: Final = 1_767_225_600  # 2026-01-01T00:00:00Z, the first synthetic record's time
ADMIN: Final = "WCO-HUB-ADMIN"
AUDITOR: Final = "WCO-BENCH-AUDIT"
RESULTS: Final = Path(__file__).resolve().parent / "results"
REPOSITORY: Final = RESULTS.parents[1]
ELSEWHERE: Final = "<outside the repository>"


def neutral_path(path: Path | str) -> str:
    """How a report names a path: relative to the repository, or only its name with a neutral
    prefix, so that committed results never carry the machine's folders (or user names)."""
    resolved = Path(path).expanduser().resolve()
    if resolved.is_relative_to(REPOSITORY):
        return resolved.relative_to(REPOSITORY).as_posix() or "."
    return f"{ELSEWHERE}/{resolved.name}"


def neutral_command(argv: Sequence[str]) -> str:
    """The command line of the run, every path in it (a script, ``--json OUT``, ``--opt=PATH``)
    written by :func:`neutral_path`; the interpreter by its name alone."""
    words = [Path(sys.executable).name]
    for arg in argv:
        option, equals, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        if "/" in value or os.sep in value:
            value = neutral_path(value)
        words.append(f"{option}{equals}{value}")
    return " ".join(words)


NS_PER_MS: Final = 1_000_000

console = Console()
if not console.is_terminal:  # a log file: room for the summary table
    console = Console(width=132)


@dataclass(frozen=True)
class Settings:
    entries: int
    append_batched: int
    append_single: int
    requests: int
    pipeline: int
    seed: int
    quick: bool
    json_out: Path
    workdir: Path | None
    keep: bool


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, help=f"log size N (default {FULL_ENTRIES:,})")
    parser.add_argument(
        "--quick", action="store_true", help=f"N = {QUICK_ENTRIES:,} and fewer samples"
    )
    parser.add_argument("--json", type=Path, dest="json_out", help="where to write the figures")
    parser.add_argument("--append-batched", type=int, help="records appended 1,000 per txn")
    parser.add_argument("--append-single", type=int, help="records appended 1 per txn")
    parser.add_argument(
        "--requests", type=int, help="timed requests (and service calls) of each kind"
    )
    parser.add_argument(
        "--pipeline", type=int, default=4, help="pages in flight in the pipelined download"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic traffic")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary hub home")
    parser.add_argument("--keep", action="store_true", help="keep the hub home and databases")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    entries = args.entries or (QUICK_ENTRIES if quick else FULL_ENTRIES)
    if entries < 10:
        parser.error("--entries must be at least 10")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    default_json = RESULTS / f"log-{stamp}{'-quick' if quick else ''}.json"
    return Settings(
        entries=entries,
        append_batched=args.append_batched or (1_000 if quick else 20_000),
        append_single=args.append_single or (100 if quick else 2_000),
        requests=args.requests or (100 if quick else 500),
        pipeline=max(1, args.pipeline),
        seed=args.seed,
        quick=quick,
        json_out=args.json_out or default_json,
        workdir=args.workdir,
        keep=bool(args.keep),
    )


# --- synthetic traffic ----------------------------------------------------------------------------

PARTICIPANTS: Final = (
    ("NG-NCP-LAGOS", "NG"),
    ("GH-NCP-ACCRA", "GH"),
    ("CM-NCP-DOUALA", "CM"),
    ("SN-NCP-DAKAR", "SN"),
    ("CI-NCP-ABIDJAN", "CI"),
    ("BJ-NCP-COTONOU", "BJ"),
    ("WCO-PGS-BRUSSELS", WCO),
)
KINDS: Final = ("alert", "seizure", "rfi", "reply")
TLPS: Final = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


@dataclass(frozen=True, slots=True)
class Record:
    """The arguments of one :func:`hub.storage.audit.append_record` call."""

    at: int
    event: str
    actor: str
    subject: str | None
    country: str
    details: dict[str, object]
    countries: tuple[str, ...]


class Traffic:
    """A reproducible stream of audit records shaped like the hub's own (docs/audit-log.md):
    envelopes accepted, receipts recorded and a few denials, a few per second."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self._at = START_AT
        self._mids: deque[str] = deque(maxlen=1000)  # receipts are for recent messages

    def _token(self, size: int) -> str:
        return base64.urlsafe_b64encode(self._rng.randbytes(size)).rstrip(b"=").decode()

    def take(self, count: int) -> list[Record]:
        return [self._next() for _ in range(count)]

    def _next(self) -> Record:
        rng = self._rng
        self._at += rng.randrange(3)
        draw = rng.random()
        sender, country = rng.choice(PARTICIPANTS)
        if draw < 0.35 and self._mids:
            mid = rng.choice(self._mids)
            details: dict[str, object] = {
                "mid": mid,
                "status": rng.choice(("delivered", "read")),
                "receipt_sha256": self._token(32),
            }
            other = rng.choice(PARTICIPANTS)[1]
            return Record(self._at, "receipt.recorded", sender, mid, country, details, (other,))
        if draw < 0.40:
            details = {"action": "send", "reason": rng.choice(("policy.kind", "policy.tlp"))}
            return Record(self._at, "access.denied", sender, None, country, details, ())
        mid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self._mids.append(mid)
        to = rng.sample([p for p in PARTICIPANTS if p[0] != sender], rng.randint(1, 3))
        details = {
            "mid": mid,
            "sender": sender,
            "recipients": sorted(p[0] for p in to),
            "kind": rng.choice(KINDS),
            "tlp": rng.choice(TLPS),
            "group": None,
            "size": rng.randint(2_000, 400_000),
            "sha256": self._token(32),
        }
        return Record(
            self._at, "envelope.accepted", sender, mid, country, details, tuple(p[1] for p in to)
        )


# --- statistics -----------------------------------------------------------------------------------


def latency(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p95/p99/mean/min/max in milliseconds."""
    ms = [s / NS_PER_MS for s in samples_ns]
    if len(ms) < 2:
        ms = ms * 2
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "n": len(samples_ns),
        "p50_ms": cuts[49],
        "p95_ms": cuts[94],
        "p99_ms": cuts[98],
        "mean_ms": statistics.fmean(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def rate(count: int, elapsed_ns: int) -> float:
    return count / (elapsed_ns / 1e9) if elapsed_ns else float("inf")


# --- 1. append rate -------------------------------------------------------------------------------


async def append_merkle(conn: AsyncConnection, record: Record, _index: int) -> None:
    await audit.append_record(
        conn,
        at=record.at,
        event=record.event,
        actor=record.actor,
        subject=record.subject,
        country=record.country,
        details=record.details,
        countries=record.countries,
    )


async def append_plain(conn: AsyncConnection, record: Record, index: int) -> None:
    """What ``append_record`` writes, without the Merkle log: the same record and country rows
    (with the same entry bytes), but no tree state read, no leaf hash, no subtree rows."""
    encoded = audit.encode_details(record.details)
    involved = sorted({*record.countries, record.country})
    entry = log.encode_entry(
        index=index,
        at=record.at,
        event=record.event,
        actor=record.actor,
        subject=record.subject,
        countries=involved,
        details=json.loads(encoded),
    )
    result = await conn.execute(
        insert(audit_records)
        .values(
            at=record.at,
            event=record.event,
            actor=record.actor,
            subject=record.subject,
            country=record.country,
            details=encoded,
            log_index=index,
            entry=entry,
        )
        .returning(audit_records.c.seq)
    )
    seq = int(result.scalar_one())
    await conn.execute(
        insert(audit_record_countries), [{"seq": seq, "country": c} for c in involved]
    )


def file_url(path: Path) -> str:
    """The URL of an SQLite database file, as the hub spells it for ``HOME/hub.db``."""
    return f"sqlite+aiosqlite:///{path.resolve()}"


Appender = Callable[[AsyncConnection, Record, int], Awaitable[None]]


async def timed_appends(
    lanes: Sequence[tuple[AsyncEngine, Appender]],
    records: Sequence[Record],
    first: int,
    per_txn: int,
) -> list[list[int]]:
    """Append ``records``, ``per_txn`` to a transaction (commit included), to every lane in turn:
    transaction k of each lane runs before transaction k + 1 of any, and the order of the lanes
    alternates, so that drift on a busy machine touches them alike. Nanoseconds per transaction,
    per lane."""
    taken: list[list[int]] = [[] for _ in lanes]
    for turn, offset in enumerate(range(0, len(records), per_txn)):
        chunk = records[offset : offset + per_txn]
        order = list(range(len(lanes)))
        if turn % 2:
            order.reverse()
        for lane in order:
            engine, append = lanes[lane]
            started = time.perf_counter_ns()
            async with engine.begin() as conn:
                for i, record in enumerate(chunk, start=first + offset):
                    await append(conn, record, i)
            taken[lane].append(time.perf_counter_ns() - started)
    return taken


async def plain_database(url: str) -> AsyncEngine:
    """An engine on a new database holding only copies of the two audit tables."""
    metadata = MetaData()
    audit_records.to_metadata(metadata)
    audit_record_countries.to_metadata(metadata)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


async def bench_appends(settings: Settings, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True)
    records = Traffic(settings.seed).take(settings.append_batched + settings.append_single)
    batched, single = records[: settings.append_batched], records[settings.append_batched :]
    await upgrade(file_url(folder / "merkle.db"))
    merkle = create_engine(file_url(folder / "merkle.db"))
    plain = await plain_database(file_url(folder / "plain.db"))
    figures: dict[str, Any] = {}
    try:
        for label, records, per_txn, first in (
            ("batch_1000", batched, BATCH, 0),
            ("batch_1", single, 1, len(batched)),
        ):
            with console.status(f"append {len(records):,} records, {per_txn} per transaction"):
                lanes = ((merkle, append_merkle), (plain, append_plain))
                merkle_txns, plain_txns = await timed_appends(lanes, records, first, per_txn)
            merkle_ns, plain_ns = sum(merkle_txns), sum(plain_txns)
            figures[label] = {
                "records": len(records),
                "per_transaction": per_txn,
                "merkle_per_s": rate(len(records), merkle_ns),
                "plain_per_s": rate(len(records), plain_ns),
                "merkle_us_per_record": merkle_ns / len(records) / 1000,
                "plain_us_per_record": plain_ns / len(records) / 1000,
                "cost_ratio": merkle_ns / plain_ns,
                # Each transaction against its neighbour in the other lane: robust to load spikes.
                "paired_median_ratio": statistics.median(
                    m / p for m, p in zip(merkle_txns, plain_txns, strict=True)
                ),
            }
    finally:
        await merkle.dispose()
        await plain.dispose()
    figures["fast_build_matches"] = await check_fast_build(settings, folder)
    return figures


async def check_fast_build(settings: Settings, folder: Path) -> bool:
    """Write the same records with :func:`bulk_append` into a new database and compare every
    row with what ``append_record`` wrote: the fast build must build the same log."""
    await upgrade(file_url(folder / "fast.db"))
    engine = create_engine(file_url(folder / "fast.db"))
    try:
        records = Traffic(settings.seed).take(settings.append_batched + settings.append_single)
        for offset in range(0, len(records), BATCH):
            async with engine.begin() as conn:
                await bulk_append(conn, records[offset : offset + BATCH])
    finally:
        await engine.dispose()
    tables = {
        "audit_records": "seq",
        "audit_record_countries": "seq, country",
        "log_nodes": "level, idx",
        "log_state": "id",
    }
    with (
        contextlib.closing(sqlite3.connect(folder / "merkle.db")) as slow,
        contextlib.closing(sqlite3.connect(folder / "fast.db")) as fast,
    ):
        for table, order in tables.items():
            query = f"SELECT * FROM {table} ORDER BY {order}"  # noqa: S608 - our constants
            if slow.execute(query).fetchall() != fast.execute(query).fetchall():
                raise RuntimeError(f"the fast build wrote {table} unlike append_record")
    return True


# --- 2. building a log of N entries ---------------------------------------------------------------


async def bulk_append(conn: AsyncConnection, records: Sequence[Record]) -> None:
    """Append ``records`` to the log in one transaction, with one multi-row statement per table.

    The rows are those ``append_record`` would write one call at a time (same entry bytes from
    :func:`hub.storage.log.encode_entry`, same subtrees from :class:`CompactRange`);
    :func:`check_fast_build` compares them row by row.
    """
    tree = await log.state(conn)
    last = (await conn.execute(select(func.max(audit_records.c.seq)))).scalar_one()
    seq = int(last or 0)
    rows: list[dict[str, object]] = []
    countries: list[dict[str, object]] = []
    entries: list[bytes] = []
    for index, record in enumerate(records, start=tree.size):
        seq += 1
        encoded = audit.encode_details(record.details)
        involved = sorted({*record.countries, record.country})
        entry = log.encode_entry(
            index=index,
            at=record.at,
            event=record.event,
            actor=record.actor,
            subject=record.subject,
            countries=involved,
            details=json.loads(encoded),
        )
        entries.append(entry)
        rows.append(
            {
                "seq": seq,
                "at": record.at,
                "event": record.event,
                "actor": record.actor,
                "subject": record.subject,
                "country": record.country,
                "details": encoded,
                "log_index": index,
                "entry": entry,
            }
        )
        countries.extend({"seq": seq, "country": c} for c in involved)
    grown, completed = tree.extend(leaf_hash(e) for e in entries)
    await conn.execute(insert(audit_records), rows)
    if countries:
        await conn.execute(insert(audit_record_countries), countries)
    await conn.execute(
        insert(log_nodes), [{"level": c.level, "idx": c.index, "hash": c.hash} for c in completed]
    )
    frontier = b"".join(grown.hashes)
    changed = await conn.execute(
        update(log_state).where(log_state.c.id == 1).values(size=grown.size, frontier=frontier)
    )
    if changed.rowcount == 0:
        await conn.execute(insert(log_state).values(id=1, size=grown.size, frontier=frontier))


def database_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def build_log(engine: AsyncEngine, settings: Settings, count: int) -> dict[str, Any]:
    """Append ``count`` synthetic records, :data:`BATCH` per transaction, with a progress bar
    (and a line every tenth when the output is not a terminal)."""
    traffic = Traffic(settings.seed + 1)
    tenth = max(1, count // 10)
    marks: list[tuple[int, int]] = []  # (entries done, time) each time a tenth is passed
    columns = (
        TextColumn("[bold]build log"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10} entries/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.perf_counter_ns()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("build", total=count, rate="")
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            records = traffic.take(size)
            async with engine.begin() as conn:
                await bulk_append(conn, records)
            done += size
            now = time.perf_counter_ns()
            speed = f"{rate(done, now - started):,.0f}"
            progress.update(task, advance=size, rate=speed)
            if done >= tenth * (len(marks) + 1) or done == count:
                marks.append((done, now))
                if not console.is_terminal:
                    console.log(f"built {done:,} of {count:,} entries, {speed} entries/s")
    elapsed = time.perf_counter_ns() - started
    first_done, first_at = marks[0]
    last_done, last_at = marks[-2] if len(marks) > 1 else (0, started)
    return {
        "entries": count,
        "per_transaction": BATCH,
        "seconds": elapsed / 1e9,
        "per_s": rate(count, elapsed),
        "first_tenth_per_s": rate(first_done, first_at - started),
        "last_tenth_per_s": rate(count - last_done, started + elapsed - last_at),
    }


# --- 3a. proof generation inside the hub, without HTTP --------------------------------------------


def raw_proof(db: sqlite3.Connection, plan: ProofPlan) -> list[bytes]:
    """The query :func:`hub.storage.log.nodes` sends, through the stdlib driver: the floor."""
    nodes = plan.nodes
    if not nodes:
        return []
    where = " OR ".join("(level = ? AND idx = ?)" for _ in nodes)
    params = [v for n in nodes for v in (n.level, n.index)]
    query = f"SELECT level, idx, hash FROM log_nodes WHERE {where}"  # noqa: S608 - placeholders
    found = {NodeId(int(r[0]), int(r[1])): bytes(r[2]) for r in db.execute(query, params)}
    return plan.assemble(found)


async def storage_proof(engine: AsyncEngine, plan: ProofPlan) -> list[bytes]:
    """What the service does for the proof itself: one connection, one :func:`log.nodes` query."""
    async with engine.connect() as conn:
        return plan.assemble(await log.nodes(conn, plan.nodes))


def hub_context(engine: AsyncEngine, home: Path) -> HubContext:
    """The context the hub builds at start-up, as far as the log's services need it."""
    config = load_config(home)
    return HubContext(
        engine=engine,
        policy=PolicyHolder(config.policy_path, load_policy_file(config.policy_path)),
        authority=config.authority,
        hub_key=load_or_create_hub_key(config.hub_key_dir),
        log_origin=config.log_origin,
    )


class Stopwatch:
    """Wall-clock and process CPU time of named steps. The CPU time (this process's threads,
    aiosqlite's included) hardly moves when other work shares the machine; the wall time does."""

    def __init__(self) -> None:
        self.wall: dict[str, list[int]] = {}
        self.cpu: dict[str, list[int]] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter_ns(), time.process_time_ns()
        yield
        self.cpu.setdefault(name, []).append(time.process_time_ns() - cpu)
        self.wall.setdefault(name, []).append(time.perf_counter_ns() - wall)

    def figures(self, skip: int) -> dict[str, Any]:
        """Latency figures of each step, leaving out the first ``skip`` (warm-up) samples."""
        found: dict[str, Any] = {}
        for name, values in self.wall.items():
            found[name] = latency(values[skip:])
            found[name]["cpu_p50_ms"] = latency(self.cpu[name][skip:])["p50_ms"]
        return found


async def bench_service_proofs(home: Path, settings: Settings) -> dict[str, Any]:
    """Proof generation without HTTP, at the log's full size, with the hub stopped: the service
    functions the handlers call, the storage query alone, and the same SQL through ``sqlite3``."""
    engine = create_engine(sqlite_url(home))
    ctx = hub_context(engine, home)
    auditor = Member(
        id=AUDITOR, country=WCO, role="auditor", scope=None, status="active", enc_kid=""
    )
    watch = Stopwatch()
    warmup = 10 if settings.quick else 20
    try:
        async with engine.connect() as conn:
            tree = await log.state(conn)
        rng = random.Random(settings.seed + 2)  # noqa: S311 - reproducible sampling
        with (
            contextlib.closing(sqlite3.connect(home / "hub.db")) as db,
            console.status(f"{settings.requests} proofs of each kind, three ways"),
        ):
            for _ in range(warmup + settings.requests):
                index, first = rng.randrange(tree.size), rng.randrange(1, tree.size)
                await _one_service_round(ctx, watch, db=db, auditor=auditor, index=index, tree=tree)
                await _one_consistency_round(ctx, watch, db, first, tree.size)
    finally:
        await engine.dispose()
    figures: dict[str, Any] = {"size": tree.size} | watch.figures(warmup)
    for kind in ("inclusion", "consistency"):
        floor = figures[f"sqlite3_{kind}"]["p50_ms"]
        figures[f"{kind}_service_over_sqlite3"] = figures[f"service_{kind}"]["p50_ms"] / floor
        figures[f"{kind}_storage_over_sqlite3"] = figures[f"storage_{kind}"]["p50_ms"] / floor
    return figures


async def _one_service_round(
    ctx: HubContext,
    watch: Stopwatch,
    *,
    db: sqlite3.Connection,
    auditor: Member,
    index: int,
    tree: CompactRange,
) -> None:
    size = tree.size
    with watch("service_inclusion"):
        doc = await auditlog.inclusion(ctx, auditor, index=index, mid=None, size=size)
    with watch("storage_inclusion"):
        stored = await storage_proof(ctx.engine, inclusion_plan(index, size))
    with watch("sqlite3_inclusion"):
        raw = raw_proof(db, inclusion_plan(index, size))
    proof = [b64u_decode(p) for p in doc.proof]
    verify_inclusion(b64u_decode(doc.leaf_hash), index, size, proof, tree.root())
    if not proof == stored == raw:
        raise RuntimeError(f"three ways to the inclusion proof of {index} disagree")


async def _one_consistency_round(
    ctx: HubContext, watch: Stopwatch, db: sqlite3.Connection, first: int, size: int
) -> None:
    with watch("service_consistency"):
        doc = await auditlog.consistency(ctx, first, size)
    with watch("storage_consistency"):
        stored = await storage_proof(ctx.engine, consistency_plan(first, size))
    with watch("sqlite3_consistency"):
        raw = raw_proof(db, consistency_plan(first, size))
    if not [b64u_decode(p) for p in doc.proof] == stored == raw:
        raise RuntimeError(f"three ways to the consistency proof from {first} disagree")


# --- the hub process ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def relax_rate_limit(policy: Path) -> None:
    """Lift the per-participant rate limit of this throw-away hub: the benchmark's thousands of
    requests would otherwise be measuring HTTP 429 answers."""
    text = policy.read_text(encoding="utf-8")
    for key in ("rate_per_minute", "rate_burst"):
        text, found = re.subn(rf"(?m)^{key} = \d+$", f"{key} = 1000000", text)
        if found != 1:
            raise RuntimeError(f"{policy} has no `{key} = N` line to change")
    policy.write_text(text, encoding="utf-8")


@dataclass
class Cleanup:
    """What the run leaves behind, undone on every exit path (Ctrl-C included)."""

    workdir: Path
    keep: bool
    hub: subprocess.Popen[bytes] | None = None
    hub_exit: int | None = None

    def stop_hub(self) -> int | None:
        """SIGTERM the hub and wait for it (SIGKILL after 30 s); its exit status."""
        if self.hub is not None and self.hub_exit is None:
            self.hub.send_signal(signal.SIGTERM)
            try:
                self.hub_exit = self.hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.hub.kill()
                self.hub_exit = self.hub.wait()
        return self.hub_exit

    def remove_files(self) -> None:
        if self.keep:
            console.print(f"kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_hub(home: Path, port: int, cleanup: Cleanup) -> subprocess.Popen[bytes]:
    """``python -m pgs_hub serve`` on the home's database, in its own session so that a Ctrl-C at
    the terminal reaches only the benchmark, which then stops the hub with SIGTERM."""
    with (home / "hub.log").open("ab") as sink:
        cleanup.hub = subprocess.Popen(  # noqa: S603 - our own server, our arguments
            [sys.executable, "-m", "pgs_hub", "serve", "--home", str(home), "--port", str(port),
             "--database-url", sqlite_url(home)],
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return cleanup.hub


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with session.get(f"{url}/v1/health") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the hub did not become healthy:\n{tail}")


async def enrol_auditor(
    url: str, home: Path, admin: keystore.LocalParticipant, authority: SigningKey
) -> keystore.LocalParticipant:
    """A global (WCO, unscoped) auditor, enrolled through the admin API."""
    local = keystore.create(home / "people" / AUDITOR, AUDITOR, None)
    certificate = certify(
        authority, AUDITOR, role="auditor",
        verify=local.signing.public, encrypt=local.decryption.public, now=int(time.time()),
    )  # fmt: skip
    async with HubClient(url, admin, authority=authority.public) as client:
        await client.enrol(certificate)
    return local


@dataclass(frozen=True)
class LogKey:
    origin: str
    verifier: NoteVerifier

    @classmethod
    def of(cls, home: Path) -> LogKey:
        config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
        return cls(config["log"]["origin"], parse_verifier_key(config["log"]["verifier_key"]))


async def signed_checkpoint(client: HubClient, key: LogKey) -> Checkpoint:
    """POST /v1/audit/checkpoint, and the note verified under the pinned log key."""
    _, data = await client.request("POST", "/v1/audit/checkpoint")
    note = str(json.loads(data)["checkpoint"]).encode("utf-8")
    return verify_checkpoint(note, key.verifier, origin=key.origin)


# --- 3b. proofs over HTTP -------------------------------------------------------------------------


async def bench_http(client: HubClient, signed: Checkpoint, settings: Settings) -> dict[str, Any]:
    """Latency of the proof endpoints and of two baselines, requests interleaved at random so that
    drift (housekeeping, caches, the page cache) touches every kind alike."""
    size = signed.size
    rng = random.Random(settings.seed + 3)  # noqa: S311 - reproducible sampling
    kinds = ("health", "groups", "inclusion", "consistency")
    samples: dict[str, list[int]] = {k: [] for k in kinds}
    warmup = 10 if settings.quick else 20
    for n in range(warmup + settings.requests):
        order = list(kinds)
        rng.shuffle(order)
        for kind in order:
            query: dict[str, int | str] | None = None
            path, sign = "/v1/groups", True
            if kind == "health":
                path, sign = "/v1/health", False
            elif kind == "inclusion":
                path, query = "/v1/audit/proof/inclusion", {"index": rng.randrange(size)}
                query["size"] = size
            elif kind == "consistency":
                path, query = "/v1/audit/proof/consistency", {"first": rng.randrange(1, size)}
                query["second"] = size
            started = time.perf_counter_ns()
            _, data = await client.request("GET", path, query=query, sign=sign)
            elapsed = time.perf_counter_ns() - started
            if n >= warmup:
                samples[kind].append(elapsed)
            if kind == "inclusion":
                check_inclusion(json.loads(data), signed)
    figures: dict[str, Any] = {"size": size} | {k: latency(v) for k, v in samples.items()}
    for kind in ("inclusion", "consistency"):
        p50 = figures[kind]["p50_ms"]
        figures[f"{kind}_over_health"] = p50 / figures["health"]["p50_ms"]
        figures[f"{kind}_over_groups"] = p50 / figures["groups"]["p50_ms"]
    return figures


def check_inclusion(doc: dict[str, Any], signed: Checkpoint) -> None:
    entry = b64u_decode(doc["entry"])
    proof = [b64u_decode(p) for p in doc["proof"]]
    verify_inclusion(leaf_hash(entry), int(doc["index"]), signed.size, proof, signed.root)


# --- 4. full verification -------------------------------------------------------------------------


async def pages(client: HubClient, size: int, ahead: int) -> AsyncIterator[LogEntries]:
    """Every page of entries in order, with up to ``ahead`` requests in flight. The pages are
    asked for on a fixed grid of :data:`PAGE` entries; a page the hub ends sooner (its byte cap,
    never reached by these entries) fails the run rather than leave a gap."""
    starts = iter(range(0, size, PAGE))
    pending: list[asyncio.Task[LogEntries]] = []
    try:
        while True:
            while len(pending) < ahead and (start := next(starts, None)) is not None:
                end = min(size, start + PAGE)
                fetch = client.get("/v1/audit/entries", LogEntries, start=start, end=end)
                pending.append(asyncio.ensure_future(fetch))
            if not pending:
                return
            page = await pending.pop(0)
            if page.end != min(size, page.start + PAGE):
                raise RuntimeError(f"the hub ended the page from {page.start} early")
            yield page
    finally:
        for task in pending:
            task.cancel()


async def verify_log(
    client: HubClient, key: LogKey, ahead: int, keep: list[bytes] | None
) -> dict[str, Any]:
    """Ask for a signed checkpoint, download every entry, rebuild the root, compare."""
    started = time.perf_counter_ns()
    signed = await signed_checkpoint(client, key)
    tree = CompactRange()
    page_ns: list[int] = []
    client_ns = 0  # decoding and hashing, the rest is waiting for the hub
    mark = time.perf_counter_ns()
    async for page in pages(client, signed.size, ahead):
        received = time.perf_counter_ns()
        leaves: list[bytes] = []
        for expected, item in enumerate(page.entries, start=tree.size):
            if item.index != expected:
                raise RuntimeError(f"entry {expected} is missing from the download")
            entry = b64u_decode(item.entry)
            leaves.append(leaf_hash(entry))
            if keep is not None:
                keep.append(entry)
        tree = tree.extended(leaves)
        now = time.perf_counter_ns()
        client_ns += now - received
        page_ns.append(now - mark)
        mark = now
    if tree.size != signed.size or tree.root() != signed.root:
        raise RuntimeError("the downloaded entries do not rebuild the signed root")
    elapsed = time.perf_counter_ns() - started
    return {
        "entries": signed.size,
        "pages": len(page_ns),
        "in_flight": ahead,
        "seconds": elapsed / 1e9,
        "entries_per_s": rate(signed.size, elapsed),
        "client_decode_and_hash_seconds": client_ns / 1e9,
        "page": latency(page_ns),
        "root_matches_checkpoint": True,
    }


def recompute(entries: Sequence[bytes]) -> dict[str, float]:
    """The baselines: the same recomputation from entries already in memory (leaf hashes folded
    with :meth:`CompactRange.extended`, as :func:`verify_log` does), and, for reference, the same
    with one checked :meth:`CompactRange.append` per entry."""
    started = time.perf_counter_ns()
    tree = CompactRange().extended(leaf_hash(e) for e in entries)
    compact = time.perf_counter_ns() - started
    started = time.perf_counter_ns()
    one_by_one = CompactRange()
    for entry in entries:
        one_by_one, _ = one_by_one.append(leaf_hash(entry))
    appends = time.perf_counter_ns() - started
    if one_by_one != tree:
        raise RuntimeError("CompactRange.extended and CompactRange.append disagree")
    started = time.perf_counter_ns()
    hashes = [leaf_hash(e) for e in entries]
    leaves = time.perf_counter_ns() - started
    if root_from_leaves(hashes) != tree.root():
        raise RuntimeError("CompactRange and root_from_leaves disagree")
    floor = time.perf_counter_ns() - started
    return {
        "compact_range_seconds": compact / 1e9,
        "compact_range_append_seconds": appends / 1e9,
        "leaf_hashes_seconds": leaves / 1e9,
        "leaf_hashes_and_tree_seconds": floor / 1e9,
    }


def verify_with_tool(url: str, home: Path, folder: Path) -> dict[str, Any]:
    """The same check by the auditor's own tool, as an auditor runs it: ``pgs audit verify
    --full`` in a process of its own (its start-up included), with the log key and authority
    pinned and a state file of its own; its wall time. It must say the log verified (exit 0)."""
    config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    command = [
        sys.executable, "-m", "pgs_hub", "audit", "verify", "--full", "--hub", url,
        "--authority", str(home / "authority" / "authority.jwk.json"),
        "--log-key", config["log"]["verifier_key"], "--keys", str(home / "people" / AUDITOR),
        "--state", str(folder / "audit-state.json"),
    ]  # fmt: skip
    started = time.perf_counter_ns()
    done = subprocess.run(  # noqa: S603 - our own tool, our arguments
        command, capture_output=True, text=True, check=False, env=os.environ | {"NO_COLOR": "1"}
    )
    elapsed = time.perf_counter_ns() - started
    if done.returncode != 0:
        raise RuntimeError(f"pgs audit verify failed ({done.returncode}): {done.stderr[-500:]}")
    return {"command": "pgs audit verify --full", "seconds": elapsed / 1e9}


async def bench_verification(
    client: HubClient, key: LogKey, settings: Settings, *, home: Path, folder: Path
) -> dict[str, Any]:
    entries: list[bytes] = []
    with console.status("full verification: download pages one at a time and rebuild the root"):
        sequential = await verify_log(client, key, 1, entries)
    with console.status(f"full verification: {settings.pipeline} pages in flight"):
        pipelined = await verify_log(client, key, settings.pipeline, None)
    with console.status("full verification by the auditor's tool: pgs audit verify --full"):
        tool = await asyncio.to_thread(verify_with_tool, client.base_url, home, folder)
    with console.status("recomputation alone, from memory"):
        alone = recompute(entries)
    del entries
    base = alone["compact_range_seconds"]
    return {
        "sequential": sequential,
        "pipelined": pipelined,
        "tool": tool,
        "recompute": alone,
        "sequential_over_recompute": sequential["seconds"] / base,
        "pipelined_over_recompute": pipelined["seconds"] / base,
        "target_seconds_at_1e6": VERIFY_TARGET_S,
    }


# --- the run --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            done = subprocess.run(  # noqa: S603 - fixed arguments
                ["git", *args],  # noqa: S607 - git from PATH, for the report only
                cwd=Path(__file__).resolve().parent,
                capture_output=True,
                text=True,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout.strip()

    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": git("rev-parse", "HEAD"),
        "tree_modified": bool(git("status", "--porcelain")),
    }


@contextlib.contextmanager
def phase(report: dict[str, Any], name: str, title: str) -> Iterator[None]:
    """A titled phase of the run; its wall-clock time goes into ``report["phase_seconds"]``, the
    machine's load average at its start and end into ``report["load_average_1min"]``."""
    console.rule(title)
    started, load = time.perf_counter(), os.getloadavg()[0]
    try:
        yield
    finally:
        report.setdefault("phase_seconds", {})[name] = round(time.perf_counter() - started, 3)
        # Other work on the machine shows here: the ratios hold better than the absolute figures.
        report.setdefault("load_average_1min", {})[name] = [load, os.getloadavg()[0]]


async def build_phase(
    settings: Settings, home: Path, port: int
) -> tuple[dict[str, Any], SigningKey, keystore.LocalParticipant]:
    """A hub home as ``pgs init`` makes it, its first admin, and a log one entry short of N (the
    auditor's enrolment, through the hub, is the last). The build figures, authority, admin."""
    authority = write_home(home, port=port)
    relax_rate_limit(home / POLICY_FILE)
    await upgrade(sqlite_url(home))
    admin = keystore.load(await bootstrap_admin(home, sqlite_url(home), authority, ADMIN), None)
    engine = create_engine(sqlite_url(home))
    try:
        async with engine.connect() as conn:
            existing = (await log.state(conn)).size
        figures = await build_log(engine, settings, settings.entries - existing - 1)
    finally:
        await engine.dispose()
    figures["database_bytes"] = database_bytes(home / "hub.db")
    return figures, authority, admin


async def hub_phase(
    settings: Settings,
    cleanup: Cleanup,
    report: dict[str, Any],
    *,
    port: int,
    authority: SigningKey,
    admin: keystore.LocalParticipant,
) -> None:
    home, url = cleanup.workdir / "home", f"http://127.0.0.1:{port}"
    process = start_hub(home, port, cleanup)
    try:
        await wait_healthy(url, process, home / "hub.log")
        auditor = await enrol_auditor(url, home, admin, authority)
        key = LogKey.of(home)
        async with HubClient(url, auditor, authority=authority.public, timeout=120) as client:
            started = time.perf_counter_ns()
            signed = await signed_checkpoint(client, key)
            elapsed = time.perf_counter_ns() - started
            if signed.size != settings.entries:
                raise RuntimeError(f"the log holds {signed.size} entries, not {settings.entries}")
            report["checkpoint"] = {"size": signed.size, "post_ms": elapsed / NS_PER_MS}
            with console.status(f"{settings.requests} timed requests of each kind"):
                report["http"] = await bench_http(client, signed, settings)
            report["verification"] = await bench_verification(
                client, key, settings, home=home, folder=cleanup.workdir
            )
    finally:
        report["hub_exit_status"] = cleanup.stop_hub()
    if report["hub_exit_status"] != 0:
        raise RuntimeError(f"the hub did not stop cleanly ({report['hub_exit_status']})")


async def run(settings: Settings, cleanup: Cleanup) -> dict[str, Any]:
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    report: dict[str, Any] = {
        "benchmark": "audit log (Merkle) on SQLite",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": neutral_command(sys.argv),
        "machine": machine(),
        "parameters": {
            "entries": settings.entries,
            "append_batched": settings.append_batched,
            "append_single": settings.append_single,
            "requests": settings.requests,
            "page": PAGE,
            "pipeline": settings.pipeline,
            "seed": settings.seed,
        },
    }
    with phase(report, "append", "1. append rate, against plain tables"):
        report["append"] = await bench_appends(settings, cleanup.workdir / "append")
    port = free_port()
    with phase(report, "build", f"2. build a log of {settings.entries:,} entries"):
        report["build"], authority, admin = await build_phase(
            settings, cleanup.workdir / "home", port
        )
    with phase(report, "hub", "3. a real hub: proofs over HTTP; 4. full verification"):
        await hub_phase(settings, cleanup, report, port=port, authority=authority, admin=admin)
    with phase(report, "service", "3c. proof generation without HTTP (hub stopped)"):
        report["proof_service"] = await bench_service_proofs(cleanup.workdir / "home", settings)
    return report


# --- the report -----------------------------------------------------------------------------------


def _ms(figures: dict[str, float]) -> str:
    return f"{figures['p50_ms']:.2f} / {figures['p95_ms']:.2f} / {figures['p99_ms']:.2f}"


def _target(met: bool, text: str) -> str:
    return f"[green]{text}: met" if met else f"[red]{text}: missed"


def summary(report: dict[str, Any]) -> Table:
    """The figures and ratios, one row each; latencies as p50 / p95 / p99 in ms."""
    n = report["parameters"]["entries"]
    table = Table(title=f"Merkle audit log, SQLite, N = {n:,} (latency: p50 / p95 / p99 ms)")
    for column in ("measure", "result", "baseline, same run", "ratio", "target"):
        table.add_column(column)
    for label, key in (("append, 1000/txn", "batch_1000"), ("append, 1/txn", "batch_1")):
        a = report["append"][key]
        table.add_row(
            label,
            f"{a['merkle_per_s']:,.0f} rec/s",
            f"plain tables {a['plain_per_s']:,.0f} rec/s",
            f"x{a['cost_ratio']:.2f} time (paired median x{a['paired_median_ratio']:.2f})",
            "",
        )
    b = report["build"]
    table.add_row(
        f"build {b['entries']:,}",
        f"{b['seconds']:.1f} s, {b['per_s']:,.0f}/s",
        f"first tenth {b['first_tenth_per_s']:,.0f}/s",
        f"last tenth x{b['first_tenth_per_s'] / b['last_tenth_per_s']:.2f} time",
        f"{b['database_bytes'] / 2**20:,.0f} MiB on disk",
    )
    table.add_row("POST checkpoint", f"{report['checkpoint']['post_ms']:.1f} ms", "", "", "")
    h = report["http"]
    table.add_row("GET health", _ms(h["health"]), "", "", "")
    table.add_row("GET groups (signed)", _ms(h["groups"]), "", "", "")
    for kind in ("inclusion", "consistency"):
        table.add_row(
            f"GET {kind} proof",
            _ms(h[kind]),
            "groups, health (p50)",
            f"x{h[f'{kind}_over_groups']:.2f}, x{h[f'{kind}_over_health']:.2f}",
            "",
        )
    p = report["proof_service"]
    for kind in ("inclusion", "consistency"):
        service = p[f"service_{kind}"]
        table.add_row(
            f"service {kind}",
            f"{_ms(service)} (CPU p50 {service['cpu_p50_ms']:.2f})",
            f"sqlite3 {_ms(p[f'sqlite3_{kind}'])}",
            f"x{p[f'{kind}_service_over_sqlite3']:.1f}",
            _target(service["p50_ms"] <= PROOF_TARGET_MS, f"p50 <= {PROOF_TARGET_MS:g} ms"),
        )
        storage = p[f"storage_{kind}"]
        table.add_row(
            "  of it, log.nodes",
            f"{_ms(storage)} (CPU p50 {storage['cpu_p50_ms']:.2f})",
            "the same SQL via sqlite3",
            f"x{p[f'{kind}_storage_over_sqlite3']:.1f}",
            "",
        )
    v = report["verification"]
    scaled = VERIFY_TARGET_S * n / FULL_ENTRIES
    target = f"<= {scaled:.3g} s" + ("" if n == FULL_ENTRIES else " (20 s x N/10^6)")
    alone = f"recompute alone {v['recompute']['compact_range_seconds']:.2f} s"
    for key in ("sequential", "pipelined"):
        done = v[key]
        table.add_row(
            f"verify all, {done['in_flight']} in flight",
            f"{done['seconds']:.2f} s, {done['entries_per_s']:,.0f}/s",
            alone,
            f"x{v[f'{key}_over_recompute']:.1f}",
            _target(done["seconds"] <= scaled, target),
        )
    if "tool" in v:
        seconds = v["tool"]["seconds"]
        table.add_row(
            f"verify all, {v['tool']['command']}",
            f"{seconds:.2f} s, {n / seconds:,.0f}/s",
            alone,
            f"x{seconds / v['recompute']['compact_range_seconds']:.1f}",
            _target(seconds <= scaled, target),
        )
    return table


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    if settings.workdir is not None:
        settings.workdir.mkdir(parents=True, exist_ok=True)
    cleanup = Cleanup(
        Path(tempfile.mkdtemp(prefix="pgs-log-bench-", dir=settings.workdir)), settings.keep
    )
    try:
        report = asyncio.run(run(settings, cleanup))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("[yellow]interrupted")
        return 130
    finally:
        cleanup.stop_hub()
        cleanup.remove_files()
    console.print(summary(report))
    write_json(report, settings.json_out)
    console.print(f"figures written to {settings.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
