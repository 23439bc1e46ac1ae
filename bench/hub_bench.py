"""Benchmark of the hub as a whole (``make bench``), against a bare aiohttp server in the same run.

A real ``pgs serve`` process on a loopback port, driven by separate client processes:

1. the hub's memory with 1,000 idle WebSocket streams (on the fresh hub);
2. throughput: accepted sends/s of pre-sealed 2 KB alerts (1 and 3 recipients), closed loop;
   the same client code sends the same bodies to a bare aiohttp handler (bench/baseline.py);
3. submit latency at half that load, open loop (counted from each send's scheduled time);
4. delivery latency over WebSocket at a fixed offered load (1,000 msg/s);
5. a WCO broadcast to ``ALL``: time until every one of the 186 connected members has it;
6. PostgreSQL: one worker against two (``pgs serve --workers 2``, else two hub processes);
7. the audit log at 10^6 entries: proof time and full verification (bench/log_bench.py).

``--quick`` runs everything at small sizes in under a minute. Nothing here fails on a time: the
figures go to ``bench/results/hub-<date>.json`` and ``.png`` and to a table of the issue's
targets. The run fails when something is *wrong* (errors, a hub that does not stop cleanly).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.metadata
import itertools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from bench import log_bench, uploads
from bench.load import (
    NS,
    ClientPool,
    Closed,
    HangUp,
    Job,
    Listen,
    Open,
    Received,
    Samples,
    Submit,
)
from bench.report import latency, median_max, scheduled, table, throughput, write_chart, write_json
from bench.world import (
    Cast,
    Envelope,
    Home,
    Process,
    Processes,
    Sealer,
    SealJob,
    alert_content,
    enrol,
    make_home,
    make_keys,
    notice_content,
    postgres_database,
    postgres_version,
    serve_has_workers,
    split_cpus,
)
from pgs_hub.hub import keystore
from pgs_hub.hub.home import sqlite_url
from pgs_hub.hub.server.loop import loop_name, new_event_loop

console = log_bench.console
phase = log_bench.phase
RESULTS: Final = log_bench.RESULTS


@dataclass(frozen=True)
class Settings:
    quick: bool
    clients: int  # client processes
    concurrency: int  # closed loop: requests in flight, all clients together
    sends: int  # envelopes sealed for each closed-loop run (1 and 3 recipients)
    seconds: float  # closed-loop run at most
    open_sends: int  # envelopes sealed for each half-load run
    open_seconds: float  # half-load run at most
    e2e_rate: float  # WebSocket delivery: offered messages per second
    e2e_seconds: float
    listeners: int  # participants streaming for the delivery latency
    members: int  # NCPs, one per WCO Member: the broadcast's audience
    broadcasts: int  # broadcast rounds
    idle: int  # idle WebSocket streams
    settle: float  # seconds the idle streams stay open before the hub's memory is read
    upload_mb: int  # attachment upload size, MB (0: leave the upload part out)
    upload_rounds: int
    log_entries: int  # audit log size (0: leave the log out)
    log_requests: int
    workers: bool  # the PostgreSQL 1 vs 2 workers comparison
    json_out: Path
    chart: bool
    workdir: Path | None = None
    keep: bool = False
    # Part 3's offered rate; None: half of each closed-loop run's measured maximum. A fixed rate
    # is how two versions' latencies compare: the half-load rate follows each run's maximum, so
    # a change that lowers the maximum looks better at "half load".
    open_rate: float | None = None
    # The servers (hub, bare baseline) on one CPU and the clients on the others (part 6's
    # PostgreSQL hubs excepted), as a load generator on a machine of its own would be.
    pin: bool = False


FULL: Final[dict[str, Any]] = {
    "clients": 2, "concurrency": 64, "sends": 10_000, "seconds": 10.0, "open_sends": 5_000,
    "open_seconds": 10.0, "e2e_rate": 1_000.0, "e2e_seconds": 5.0, "listeners": 10,
    "members": 186, "broadcasts": 10, "idle": 1_000, "settle": 5.0, "upload_mb": 20,
    "upload_rounds": 5, "log_entries": 1_000_000,
    "log_requests": 500, "workers": True,
}  # fmt: skip
QUICK: Final[dict[str, Any]] = FULL | {
    "sends": 800, "seconds": 1.5, "open_sends": 300, "open_seconds": 1.5, "e2e_rate": 200.0,
    "e2e_seconds": 1.5, "listeners": 4, "broadcasts": 3, "settle": 0.5, "upload_mb": 5,
    "upload_rounds": 2, "log_entries": 10_000,
    "log_requests": 20,
}  # fmt: skip

HELP: Final = {
    "clients": "client processes (at least 2)",
    "concurrency": "requests in flight in the closed loops, all clients together",
    "sends": "alerts sealed for each closed-loop run",
    "seconds": "longest closed-loop run, s",
    "open_sends": "alerts sealed for each half-load run",
    "open_seconds": "longest half-load run, s",
    "e2e_rate": "WebSocket delivery: offered alerts per second",
    "e2e_seconds": "WebSocket delivery: length of the run, s",
    "listeners": "WebSocket delivery: participants streaming",
    "members": "NCPs, one per WCO Member: the broadcast's audience",
    "broadcasts": "broadcast rounds",
    "idle": "idle WebSocket streams",
    "settle": "seconds the idle streams stay open before the hub's memory is read",
    "upload_mb": "attachment upload: MB per upload (0: leave the upload part out)",
    "upload_rounds": "attachment upload: timed rounds (hub and bare aiohttp in turn)",
    "log_entries": "audit log size (0: leave the audit log out)",
    "log_requests": "audit log: timed requests of each kind",
    "workers": "leave out PostgreSQL, 1 worker against 2",
}


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: under a minute")
    options = [f for f in fields(Settings) if f.name in FULL]
    for f in options:
        kind = {"int": int, "float": float}.get(str(f.type))
        flag = "--" + f.name.replace("_", "-")
        if kind is None:  # the booleans
            parser.add_argument(
                f"--no-{f.name}", dest=f.name, action="store_false", default=None,
                help=HELP[f.name],
            )  # fmt: skip
        else:
            parser.add_argument(
                flag, type=kind,
                help=f"{HELP[f.name]} (default {FULL[f.name]:,}; --quick: {QUICK[f.name]:,})",
            )  # fmt: skip
    parser.add_argument("--json", type=Path, dest="json_out", help="where to write the figures")
    parser.add_argument("--no-chart", dest="chart", action="store_false", help="no PNG")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the homes and logs afterwards")
    parser.add_argument(
        "--open-rate", type=float,
        help="offered alerts/s for part 3 instead of half of each measured maximum (to compare "
        "two versions' latencies at one rate)",
    )  # fmt: skip
    parser.add_argument(
        "--pin", action="store_true",
        help="the hub and the bare baseline on one CPU, the clients on the others (part 6 "
        "excepted), so that the load does not take the server's core",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.open_rate is not None and args.open_rate <= 0:
        parser.error("--open-rate must be positive")
    if args.pin:
        try:
            split_cpus(os.sched_getaffinity(0))  # the one place that knows what pinning needs
        except ValueError as exc:
            parser.error(f"--pin: {exc}")
    chosen = QUICK if args.quick else FULL
    values = {f.name: chosen[f.name] if getattr(args, f.name) is None else getattr(args, f.name)
              for f in options}  # fmt: skip
    if values["clients"] < 2:
        parser.error("--clients must be at least 2 (senders and listeners are apart)")
    if values["concurrency"] < values["clients"]:
        parser.error("--concurrency must be at least --clients (each client sends)")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    default = RESULTS / f"hub-{stamp}{'-quick' if args.quick else ''}.json"
    return Settings(
        quick=bool(args.quick), json_out=args.json_out or default, chart=bool(args.chart),
        workdir=args.workdir, keep=bool(args.keep), open_rate=args.open_rate, pin=args.pin,
        **values,
    )  # fmt: skip


# --- progress -------------------------------------------------------------------------------------


@contextlib.contextmanager
def bars(*steps: tuple[str, int | None]) -> Iterator[list[Callable[[int], None]]]:
    """Progress bars for steps that run together; yields, for each, the function that sets how
    much of it is done."""
    columns = (
        TextColumn("[bold]{task.description:<46}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        tasks = [progress.add_task(label, total=total) for label, total in steps]
        yield [functools.partial(_set, progress, task) for task in tasks]


def _set(progress: Progress, task: TaskID, done: int) -> None:
    progress.update(task, completed=done)


@contextlib.contextmanager
def bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with bars((label, total)) as (one,):
        yield one


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Run:
    settings: Settings
    workdir: Path
    processes: Processes
    pool: ClientPool
    report: dict[str, Any]
    cast: Cast
    sealer: Sealer
    people: dict[str, Path] = field(default_factory=dict)
    sealed: dict[str, list[Envelope]] = field(default_factory=dict)
    alert: bytes = field(default_factory=alert_content)
    home: Home | None = None
    hub: Process | None = None
    baseline: Process | None = None

    @property
    def senders(self) -> int:
        return 0  # client 0 sends while the others listen

    @property
    def listeners(self) -> list[int]:
        return list(range(1, self.pool.size))

    def alerts(self, recipients: int, count: int) -> SealJob:
        """``count`` 2 KB alerts from the sender to the first ``recipients`` desks."""
        desks = tuple((d, self.people[d]) for d in self.cast.desks[:recipients])
        return SealJob(self.people[self.cast.sender], desks, "alert", self.alert, count)

    async def seal(
        self, jobs: dict[str, SealJob], during: Callable[[Callable[[int], None]], Any] | None = None
    ) -> None:
        """Seal ``jobs`` into ``sealed`` (not timed; nothing else runs but ``during``, given its
        own progress bar: the setup's enrolment)."""
        started, total = time.perf_counter(), sum(j.count for j in jobs.values())
        steps = [("seal envelopes (not timed)", total)]
        if during is not None:
            steps.insert(0, ("enrol through the admin API", len(self.cast.roles())))
        with bars(*steps) as progress:
            sealing = self.sealer.seal(list(jobs.values()), progress[-1])
            if during is None:
                sealed = await sealing
            else:
                sealed, _ = await asyncio.gather(sealing, during(progress[0]))
        self.sealed.update(zip(jobs, sealed, strict=True))
        figures = self.report.setdefault("sealing", {"envelopes": 0, "seconds": 0.0})
        figures["envelopes"] += total
        figures["seconds"] += time.perf_counter() - started

    def start_at(self, megabytes: float = 0) -> int:
        """When the clients start together: time for the jobs to reach them and warm up."""
        return time.monotonic_ns() + int((0.5 + 0.05 * megabytes) * NS)

    async def closed(
        self,
        label: str,
        urls: tuple[str, ...],
        bodies: Sequence[bytes],
        *,
        cycle: bool,
        seconds: float | None = None,
        watch: bool = False,
    ) -> dict[str, Any]:
        """A closed-loop run split between all clients; the throughput figures (and how busy
        the hub's loop was, with ``watch``)."""
        size, s = self.pool.size, self.settings
        start = self.start_at(sum(map(len, bodies)) / 2**20)
        jobs: dict[int, Job] = {
            k: Closed(
                urls,
                bodies[k::size],
                s.concurrency // size + (k < s.concurrency % size),
                start,
                seconds or s.seconds,
                cycle,
            )
            for k in range(size)
        }
        async with LoopWatch(self.hub) if watch and self.hub else contextlib.nullcontext() as w:
            with bar(label, None if cycle else len(bodies)) as progress:
                answers = await self.pool.run(jobs, progress)
        samples = merged(answers.values())
        figures = throughput(samples)
        if isinstance(w, LoopWatch):
            w.record(figures, samples)
        return figures


def merged(parts: Any) -> Samples:
    whole = Samples()
    for part in parts:
        whole.extend(part)
    return whole


def check_errors(what: str, figures: dict[str, Any]) -> None:
    if figures["errors"]:
        console.print(f"[red]{what}: errors {figures['errors']}")


async def setup(run: Run) -> None:
    """Keys for everyone, a hub home on SQLite, the hub and the baseline, enrolment through the
    admin API; meanwhile the envelopes of part 1 (1 recipient), 3 and 5 are sealed (not timed).
    The others are sealed later, as many as the hub's measured speed needs."""
    s, cast, report = run.settings, run.cast, run.report
    roles = cast.roles()
    started = time.perf_counter()
    with console.status(f"keys for {len(roles)} participants"):
        run.people = make_keys(run.workdir / "people", roles)
    p = run.people
    e2e_total = max(len(cast.listeners), int(s.e2e_rate * s.e2e_seconds))
    per_listener = -(-e2e_total // len(cast.listeners))
    jobs = {
        "warm-up": run.alerts(1, min(200, max(20, s.sends // 20))),
        "closed-1": run.alerts(1, s.sends),
        "broadcast": SealJob(
            p[cast.broadcaster],
            tuple((m, p[m]) for m in cast.members),
            "notice",
            notice_content(),
            s.broadcasts,
            tlp="GREEN",
            group="ALL",
        ),
    } | {
        f"e2e-{pid}": SealJob(p[cast.sender], ((pid, p[pid]),), "alert", run.alert, per_listener)
        for pid in cast.listeners
    }
    timings: dict[str, float] = {}

    async def hub_side(progress: Callable[[int], None]) -> None:
        home_path = run.workdir / "sqlite"
        run.home = await make_home(home_path, sqlite_url(home_path))
        run.hub = run.processes.hub(run.home, log_bench.free_port())
        run.baseline = run.processes.baseline(run.workdir, log_bench.free_port())
        await run.hub.wait_healthy()
        await run.baseline.wait_healthy()
        timings["hub_ready_seconds"] = time.perf_counter() - started
        await enrol(run.hub.url, run.home, run.people, roles, progress)
        timings["enrolled_seconds"] = time.perf_counter() - started

    await run.seal(jobs, during=hub_side)
    # The delivery run addresses the listeners in turn: message i goes to listener i mod L.
    lanes = [run.sealed.pop(f"e2e-{pid}") for pid in cast.listeners]
    run.sealed["e2e"] = [env for row in zip(*lanes, strict=True) for env in row][:e2e_total]
    report["setup"] = timings | {
        "seconds": time.perf_counter() - started,
        "participants": len(roles),
        "members": len(cast.members),
        "alert_content_bytes": len(run.alert),
        "envelope_bytes": {
            "alert_1": len(run.sealed["closed-1"][0][1]),
            "broadcast": len(run.sealed["broadcast"][0][1]),
        },
    }


async def bench_throughput(run: Run) -> None:
    assert run.hub is not None  # noqa: S101 - set by setup()
    assert run.baseline is not None  # noqa: S101
    found: dict[str, Any] = {}
    warm_up = [raw for _, raw in run.sealed["warm-up"]]
    for url in (run.hub.url, run.baseline.url):  # first requests, cold caches: not counted
        await run.closed("warm-up (not counted)", (url,), warm_up, cycle=False)
    for r in ("1", "3"):
        if r == "3":  # enough for the 1-recipient rate, and a margin
            rate = found["1"]["hub"]["per_s"]
            count = min(run.settings.sends, int(1.25 * rate * run.settings.seconds) + 100)
            await run.seal({"closed-3": run.alerts(3, count)})
        bodies = [raw for _, raw in run.sealed[f"closed-{r}"]]
        used = run.hub.cpu_seconds()
        hub = await run.closed(
            f"hub, {r} recipient(s)", (run.hub.url,), bodies, cycle=False, watch=True
        )  # fmt: skip
        cpu_figures(hub, run.hub.cpu_seconds() - used)
        # The baseline goes round the same bodies for as long as the hub took (1 s at least).
        used = run.baseline.cpu_seconds()
        base = await run.closed(
            f"bare aiohttp, {r} recipient bodies", (run.baseline.url,), bodies, cycle=True,
            seconds=max(1.0, hub["seconds"]),
        )  # fmt: skip
        cpu_figures(base, run.baseline.cpu_seconds() - used)
        check_errors(f"baseline ({r})", base)
        check_errors(f"hub ({r})", hub)
        found[r] = {"hub": hub, "baseline": base, "hub_over_baseline": hub["per_s"] / base["per_s"]}
    run.report["throughput"] = found


class LoopWatch:
    """How busy the hub's event loop was over a run: its thread's time on a CPU, read every
    ``every`` seconds while the run lasts, over the wall-clock time from the run's first send to
    its last answer (``hub_loop_busy``: 1.0 is a loop with no headroom left, whatever the offered
    rate; None where the kernel does not say). The clients' timestamps and these readings share
    ``CLOCK_MONOTONIC``; the readings are interpolated at the run's two ends."""

    def __init__(self, hub: Process, every: float = 0.02) -> None:
        self.hub, self.every = hub, every
        self.points: list[tuple[int, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._point()

    def _point(self) -> None:
        ran = self.hub.loop_seconds()
        if ran is not None:
            self.points.append((time.monotonic_ns(), ran))

    async def _sample(self) -> None:
        while True:
            self._point()
            await asyncio.sleep(self.every)

    def _at(self, t: int) -> float:
        points = self.points
        if t <= points[0][0]:
            return points[0][1]
        for (t0, r0), (t1, r1) in itertools.pairwise(points):
            if t <= t1:
                return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
        return points[-1][1]

    def record(self, figures: dict[str, Any], samples: Samples) -> None:
        first = min(samples.scheduled or samples.start, default=0)
        last = max(samples.end, default=0)
        busy = None
        if len(self.points) > 1 and last > first:  # two readings make a slope
            busy = (self._at(last) - self._at(first)) / ((last - first) / NS)
        figures["hub_loop_busy"] = busy


def cpu_figures(figures: dict[str, Any], cpu_seconds: float) -> None:
    """The server's CPU time over a closed-loop run, and per accepted request: the figure
    that stays put when the machine is shared (wall-clock rates do not)."""
    figures["cpu_seconds"] = cpu_seconds
    figures["cpu_ms_per_accepted"] = (
        1000 * cpu_seconds / figures["accepted"] if figures["accepted"] else None
    )


async def bench_half_load(run: Run) -> None:
    assert run.hub is not None  # noqa: S101 - set by setup()
    found: dict[str, Any] = {}
    s, size = run.settings, run.pool.size
    rates = {r: s.open_rate or run.report["throughput"][r]["hub"]["per_s"] / 2 for r in ("1", "3")}
    if not all(rates.values()):
        raise RuntimeError("the hub accepted no alert in part 1")
    counts = {
        r: max(size, min(s.open_sends, int(rate * s.open_seconds))) for r, rate in rates.items()
    }
    await run.seal({f"open-{r}": run.alerts(int(r), counts[r]) for r in rates})
    for r, rate in rates.items():
        count = counts[r]
        bodies = [raw for _, raw in run.sealed[f"open-{r}"]]
        start = run.start_at(sum(map(len, bodies)) / 2**20)
        jobs: dict[int, Job] = {
            k: Open((run.hub.url,), bodies[k::size], rate, start, first=k, stride=size)
            for k in range(size)
        }
        async with LoopWatch(run.hub) as watch:
            with bar(f"hub at {rate:,.0f}/s, {r} recipient(s)", count) as progress:
                answers = await run.pool.run(jobs, progress)
        samples = merged(answers.values())
        found[r] = scheduled(samples, rate)
        watch.record(found[r], samples)
        found[r]["rate_chosen"] = "fixed" if s.open_rate else "half of max"
        check_errors(f"half load ({r})", found[r])
    run.report["half_load"] = found


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    return [list(items[k::parts]) for k in range(parts)]


async def listen(run: Run, name: str, folders: Sequence[Path], clients: Sequence[int]) -> None:
    assert run.hub is not None  # noqa: S101 - set by setup()
    shares = split([str(f) for f in folders], len(clients))
    jobs: dict[int, Job] = {
        c: Listen(name, run.hub.url, tuple(share)) for c, share in zip(clients, shares, strict=True)
    }
    with bar(f"open {len(folders):,} WebSocket streams", len(folders)) as progress:
        answers = await run.pool.run(jobs, progress)
    opened = sum(a[0] for a in answers.values())
    errors: Counter[str] = Counter()
    for answer in answers.values():
        errors.update(answer[1])
    if errors:  # attempts the hub refused (each was tried again)
        console.print(f"[red]opening streams {name!r}: refused attempts {dict(errors)}")
        run.report.setdefault("stream_errors", {})[name] = dict(errors)
    if opened != len(folders):
        raise RuntimeError(f"{len(folders) - opened} WebSocket streams failed to open: {errors}")


async def hang_up(run: Run, name: str, clients: Sequence[int]) -> None:
    await run.pool.run({c: HangUp(name) for c in clients})


async def bench_delivery(run: Run) -> None:
    """Listeners stream from their own processes; one client sends at the offered rate."""
    assert run.hub is not None  # noqa: S101 - set by setup()
    s, cast, clients = run.settings, run.cast, run.listeners
    await listen(run, "e2e", [run.people[pid] for pid in cast.listeners], clients)
    envelopes = run.sealed["e2e"]
    shares = split(cast.listeners, len(clients))
    # Message i goes to listener i mod L; listeners were dealt to the clients in turn.
    expected = dict.fromkeys(clients, 0)
    owner = {pid: c for c, share in zip(clients, shares, strict=True) for pid in share}
    for i in range(len(envelopes)):
        expected[owner[cast.listeners[i % len(cast.listeners)]]] += 1
    # Above the hub's speed the alerts queue: give them the time the hub needs.
    slowest = min(s.e2e_rate, run.report["throughput"]["1"]["hub"]["per_s"])
    timeout = 1.5 * len(envelopes) / slowest + 30
    start = run.start_at(sum(len(raw) for _, raw in envelopes) / 2**20)
    jobs: dict[int, Job] = {
        run.senders: Open((run.hub.url,), [raw for _, raw in envelopes], s.e2e_rate, start)
    } | {c: Received("e2e", expected[c], timeout) for c in clients}
    label = f"deliver {len(envelopes):,} at {s.e2e_rate:,.0f}/s over WebSocket"
    with bar(label, len(envelopes)) as progress:
        answers = await run.pool.run(jobs, progress, timeout=timeout + 30, counted=clients)
    await hang_up(run, "e2e", clients)
    sent: Samples = answers[run.senders]
    when = {mid: start + int(n * NS / s.e2e_rate) for n, (mid, _) in enumerate(envelopes)}
    arrivals = {mid: ns for c in clients for mid, ns in answers[c] if mid in when}
    submit = scheduled(sent, s.e2e_rate)
    run.report["ws_delivery"] = {
        "offered_per_s": s.e2e_rate,
        "max_per_s": run.report["throughput"]["1"]["hub"]["per_s"],
        "listeners": len(cast.listeners),
        "sent": len(envelopes),
        "accepted": submit["accepted"],
        "received": len(arrivals),
        "errors": submit["errors"],
        "delivery": latency([arrivals[mid] - when[mid] for mid in arrivals]),
        "submit": submit["latency"],
    }
    check_errors("delivery", submit)


async def bench_idle(run: Run) -> None:
    """``idle`` streams of the members (several per member), held open: the hub's memory."""
    assert run.hub is not None  # noqa: S101 - set by setup()
    s, clients = run.settings, list(range(run.pool.size))
    members = [run.people[m] for m in run.cast.members]
    folders = [members[n % len(members)] for n in range(s.idle)]
    before = run.hub.rss_bytes()
    await listen(run, "idle", folders, clients)
    with console.status(f"{s.idle:,} streams open, waiting {s.settle:g} s"):
        await asyncio.sleep(s.settle)
    after = run.hub.rss_bytes()
    await hang_up(run, "idle", clients)
    run.report["idle_ws"] = {
        "open": s.idle,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "per_connection_kb": (after - before) / max(1, s.idle) / 1024,
        "settle_seconds": s.settle,
    }


async def bench_broadcast(run: Run) -> None:
    """Every member streams; the WCO sends notices to ``ALL``, one round at a time."""
    assert run.hub is not None  # noqa: S101 - set by setup()
    clients, members = run.listeners, run.cast.members
    await listen(run, "members", [run.people[m] for m in members], clients)
    shares = split(members, len(clients))
    to_last, to_first, accepted, missing = [], [], [], 0
    for mid, raw in run.sealed["broadcast"]:
        await asyncio.sleep(0.2)
        jobs: dict[int, Job] = {run.senders: Submit(run.hub.url, raw)} | {
            c: Received("members", len(share), 30) for c, share in zip(clients, shares, strict=True)
        }
        answers = await run.pool.run(jobs)
        start, end, status = answers[run.senders]
        if status != 201:
            raise RuntimeError(f"the broadcast was answered {status}")
        times = [ns for c in clients for m, ns in answers[c] if m == mid]
        missing += len(members) - len(times)
        accepted.append((end - start) / 1e6)
        if not times:
            console.print(f"[red]broadcast {len(accepted)}: no member received it")
            continue
        to_last.append((max(times) - start) / 1e6)
        to_first.append((min(times) - start) / 1e6)
        console.log(
            f"broadcast {len(accepted)}: accepted {accepted[-1]:.1f} ms, first {to_first[-1]:.1f}"
            f" ms, last of {len(times)} {to_last[-1]:.1f} ms"
        )
    await hang_up(run, "members", clients)
    run.report["broadcast"] = {
        "members": len(members),
        "envelope_bytes": len(run.sealed["broadcast"][0][1]),
        "to_last_ms": median_max(to_last),
        "to_first_ms": median_max(to_first),
        "accepted_ms": median_max(accepted),
        "missing": missing,
    }


async def bench_workers(run: Run) -> None:
    """The same alerts on PostgreSQL, one worker then two, each on a fresh database. Both hubs
    start together (the start-up of several workers takes seconds); each is stopped as soon as it
    has been measured."""
    cast = run.cast
    method = "--workers" if serve_has_workers() else "two pgs serve processes"
    bodies = [raw for _, raw in run.sealed["closed-1"]]
    roles = {cast.sender: "ncp", cast.desks[0]: "wco"}
    found: dict[str, Any] = {"method": method, "postgres": await postgres_version()}
    fleets: dict[int, list[Process]] = {}
    async with contextlib.AsyncExitStack() as stack:
        homes = {}
        for n in (1, 2):
            url = await stack.enter_async_context(postgres_database())
            homes[n] = await make_home(run.workdir / f"postgres-{n}", url)
            if method == "--workers":
                fleets[n] = [
                    run.processes.hub(homes[n], log_bench.free_port(), workers=n, pinned=False)
                ]
            else:
                fleets[n] = [
                    run.processes.hub(homes[n], log_bench.free_port(), pinned=False)
                    for _ in range(n)
                ]
            for hub in fleets[n]:  # stopped before its database is dropped
                stack.callback(hub.stop)
        started = time.perf_counter()

        async def ready(n: int) -> float:
            await asyncio.gather(*(hub.wait_healthy() for hub in fleets[n]))
            await enrol(fleets[n][0].url, homes[n], run.people, roles)
            return time.perf_counter() - started

        with console.status("start the PostgreSQL hubs, enrol the sender and a desk"):
            seconds = dict(zip(fleets, await asyncio.gather(*map(ready, fleets)), strict=True))
        for n, hubs in fleets.items():
            urls = tuple(h.url for h in hubs)
            label = f"hub on PostgreSQL, {n} worker{'s' if n > 1 else ''}"
            figures = await run.closed(label, urls, bodies, cycle=False)
            figures["rss_mb"] = sum(h.rss_bytes() for h in hubs) / 2**20
            figures["ready_and_enrolled_seconds"] = seconds[n]
            stopping = time.perf_counter()
            statuses = [h.stop() for h in hubs]
            figures["stop_seconds"] = time.perf_counter() - stopping
            if any(statuses):
                raise RuntimeError(f"a PostgreSQL hub did not stop cleanly ({statuses})")
            check_errors(label, figures)
            found[str(n)] = figures
    found["two_over_one"] = found["2"]["per_s"] / found["1"]["per_s"]
    run.report["workers"] = found


async def bench_audit_log(run: Run) -> None:
    """Proof time and full verification at ``log_entries``, with bench/log_bench.py's own parts
    (build the log, a real hub's proofs and full verification, the service without HTTP)."""
    s = run.settings
    folder = run.workdir / "audit-log"
    folder.mkdir()
    # Through its command line, which stays stable while its insides change.
    argv = ["--entries", str(s.log_entries), "--requests", str(s.log_requests)]
    argv += ["--json", str(folder / "log.json"), *(["--quick"] if s.quick else [])]
    settings = log_bench.parse_args(argv)
    cleanup = log_bench.Cleanup(folder, keep=True)
    found: dict[str, Any] = {"entries": s.log_entries}
    port = log_bench.free_port()
    try:
        found["build"], authority, admin = await log_bench.build_phase(
            settings, folder / "home", port
        )
        await log_bench.hub_phase(
            settings, cleanup, found, port=port, authority=authority, admin=admin
        )
    finally:
        cleanup.stop_hub()
    found["proof_service"] = await log_bench.bench_service_proofs(folder / "home", settings)
    run.report["audit_log"] = found


async def bench_upload(run: Run) -> None:
    """The sender uploads an attachment to the hub (tus) and to the bare handler, in turn."""
    assert run.hub is not None  # noqa: S101 - set by setup()
    assert run.baseline is not None  # noqa: S101
    assert run.home is not None  # noqa: S101
    hub = run.hub
    with console.status(f"upload {run.settings.upload_mb} MB, hub and bare aiohttp in turn"):
        run.report["upload"] = await uploads.bench_upload(
            run.workdir / "upload", hub_url=hub.url, baseline_url=run.baseline.url,
            uploader=keystore.load(run.people[run.cast.sender], None),
            authority=run.home.authority.public, megabytes=run.settings.upload_mb,
            rounds=run.settings.upload_rounds, cpu=hub.cpu_seconds,
        )  # fmt: skip
    u = run.report["upload"]
    console.print(
        f"upload: hub {u['hub_mb_per_s']['median']:.1f} MB/s, bare aiohttp"
        f" {u['baseline_mb_per_s']['median']:.1f} MB/s (x{u['hub_over_baseline']:.2f})"
    )
    if u.get("hub_one_part_at_a_time_mb_per_s"):
        console.print(
            f"  {u['parts_in_flight']} parts in flight; one at a time (plain tus), same rounds:"
            f" {u['hub_one_part_at_a_time_mb_per_s']['median']:.1f} MB/s"
        )
    if u.get("baseline_durable_mb_per_s"):
        console.print(
            "  bare aiohttp with an fsync before it answers (what the disk costs):"
            f" {u['baseline_durable_mb_per_s']['median']:.1f} MB/s"
        )


def machine() -> dict[str, Any]:
    probe = new_event_loop()  # the servers make theirs with the same function and environment
    probe.close()
    return log_bench.machine() | {
        "aiohttp": importlib.metadata.version("aiohttp"),
        "event_loop": loop_name(probe),
        "load_average_at_start": os.getloadavg(),
    }


async def run_all(settings: Settings, workdir: Path, processes: Processes) -> dict[str, Any]:
    """Every part of the benchmark; the report (without the targets, see report.targets)."""
    report: dict[str, Any] = {
        "benchmark": "hub: throughput, latency, WebSocket delivery, broadcast, memory, workers,"
        " audit log",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": log_bench.neutral_command(sys.argv),
        "machine": machine(),
        "parameters": {
            k: log_bench.neutral_path(v) if isinstance(v, Path) else v
            for k, v in settings.__dict__.items()
        },
    }
    cast = Cast.of(members=settings.members, listeners=settings.listeners)
    sealer = Sealer(os.cpu_count() or 2)
    clients_cpus = None
    if settings.pin:
        processes.server_cpus, clients_cpus = split_cpus(os.sched_getaffinity(0))
        report["pinned"] = {
            "servers": sorted(processes.server_cpus), "clients": sorted(clients_cpus)
        }  # fmt: skip
    with ClientPool(settings.clients, clients_cpus) as pool, contextlib.closing(sealer):
        run = Run(settings, workdir, processes, pool, report, cast, sealer)
        with phase(report, "setup", "0. setup: keys, hub on SQLite, enrolment, sealing"):
            await setup(run)
        with phase(report, "idle_ws", f"1. memory with {settings.idle:,} idle WebSockets"):
            await bench_idle(run)
        with phase(report, "throughput", "2. sends/s, closed loop, against bare aiohttp"):
            await bench_throughput(run)
        with phase(report, "half_load", "3. submit latency at half the hub's throughput"):
            await bench_half_load(run)
        with phase(report, "ws_delivery", "4. delivery latency over WebSocket"):
            await bench_delivery(run)
        with phase(report, "broadcast", f"5. broadcast to {len(cast.members)} members"):
            await bench_broadcast(run)
        if settings.upload_mb:
            title = f"5b. upload of {settings.upload_mb} MB against bare aiohttp"
            with phase(report, "upload", title):
                await bench_upload(run)
        assert run.hub is not None  # noqa: S101 - set by setup()
        assert run.baseline is not None  # noqa: S101
        report["hub_exit_status"] = run.hub.stop()
        run.baseline.stop()
        if report["hub_exit_status"] != 0:
            raise RuntimeError(f"the hub did not stop cleanly ({report['hub_exit_status']})")
        if settings.workers:
            with phase(report, "workers", "6. PostgreSQL: 1 worker against 2"):
                await bench_workers(run)
    if settings.log_entries:
        title = f"7. audit log at {settings.log_entries:,} entries (bench/log_bench.py)"
        with phase(report, "audit_log", title):
            await bench_audit_log(run)
    return report


async def interruptible(settings: Settings, workdir: Path, processes: Processes) -> dict[str, Any]:
    """:func:`run_all`, stopped cleanly by SIGTERM as by Ctrl-C."""
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run_all(settings, workdir, processes)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    if settings.workdir is not None:
        settings.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="pgs-hub-bench-", dir=settings.workdir))
    processes = Processes()
    started = time.perf_counter()
    try:
        report = asyncio.run(interruptible(settings, workdir, processes))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("[yellow]interrupted")
        return 130
    finally:
        processes.stop_all()
        if settings.keep:
            console.print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["wall_seconds"] = time.perf_counter() - started
    console.print(table(report))
    write_json(report, settings.json_out)
    console.print(f"figures written to {settings.json_out}")
    if settings.chart:
        chart = settings.json_out.with_suffix(".png")
        if write_chart(report, chart):
            console.print(f"chart written to {chart}")
        else:
            console.print("[yellow]no chart: matplotlib is missing (pip install -e '.[bench]')")
    console.print(f"total {report['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
