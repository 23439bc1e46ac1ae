"""Scale-out on PostgreSQL: several hub processes on one database, as ``pgs serve --workers N``
runs them (or hubs on several machines), over real sockets.

* What one process accepts is pushed at once to a stream connected to another, through
  LISTEN/NOTIFY. The streams' own periodic recheck is set to an hour here, so within the test
  nothing but the notification can deliver it.
* Concurrent submissions, group broadcasts and receipts through two processes keep one audit log
  (indexes gap-free, ``pgs audit verify`` passes against either process, the second run
  consistent with the first) and every stream complete, in cursor order, without repeats.
* ``pgs serve --workers 2`` (with TLS) serves one port, its /metrics summed over both workers;
  SIGTERM stops the supervisor and both
  workers cleanly. On SQLite it refuses to start, saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from pgs_hub.hub.client import HubClient
from pgs_hub.hub.client.log import entries
from pgs_hub.hub.home import write_home
from pgs_hub.hub.services.fanout import APPLICATION_NAME
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from tests.conftest import POSTGRES_ADMIN_DSN
from tests.e2e import scrape
from tests.e2e.harness import RunningHub, Tls, another_process, free_port, launch
from tests.e2e.messages import example
from tests.e2e.tls_ca import make_ca

NG, GH, CM, FR, WCO = (
    "NG-NCP-LAGOS",
    "GH-NCP-ACCRA",
    "CM-NCP-DOUALA",
    "FR-NCP-PARIS",
    "WCO-PGS-BRUSSELS",
)
AUDITOR = "WCO-AUDIT"
WCA = (CM, GH, NG)  # the WCO region "West and Central Africa" among them
HOUR = 3600.0  # the streams' recheck: far beyond any wait below, so only a notification delivers
ARRIVE_WITHIN = 60.0  # a failure detector, not a measurement: the fallback would take an hour
on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def pair(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[RunningHub, RunningHub]]:
    """Two ``pgs serve`` processes on one home and one PostgreSQL database."""
    a = await launch(tmp_path / "home", database_url, stream={"recheck_seconds": HOUR})
    running = [a]
    try:
        running.append(await another_process(a, "hub-b.log"))
        yield a, running[1]
    finally:
        codes = [process.stop() for process in reversed(running)]
    for process, code in zip(reversed(running), codes, strict=True):
        log = process.log.read_text()
        assert code == 0, f"{process.url} did not stop cleanly ({code}):\n{log}"
        assert "Traceback" not in log, log


async def enrol_world(hub: RunningHub) -> None:
    for pid in (NG, GH, CM, FR):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    await hub.enrol(AUDITOR, "auditor")


@dataclass
class Stream:
    """One participant's live stream from one process, collecting what it pushes."""

    hub: RunningHub
    who: str
    items: list[dict[str, Any]] = field(default_factory=list)

    async def run(self) -> None:
        async with self.hub.client(self.who) as client:
            async for item in client.stream(0):
                self.items.append(item.wire())  # as on the wire: the tests compare documents

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + ARRIVE_WITHIN
        while len(self.items) < count:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{self.who}'s stream from {self.hub.url} got {len(self.items)} of {count} "
                    f"items: {self.items}"
                )
            await asyncio.sleep(0.05)
        return self.items


@contextlib.asynccontextmanager
async def streaming(*streams: Stream) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(s.run()) for s in streams]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def alert(client: HubClient, to: list[str]) -> str:
    sealed, _ = await client.send(
        kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=to, tlp=Tlp.AMBER
    )
    return sealed.header.mid


@on_postgresql
async def test_what_one_process_accepts_another_pushes_at_once(
    pair: tuple[RunningHub, RunningHub],
) -> None:
    a, b = pair
    await enrol_world(a)
    gh, wco = Stream(a, GH), Stream(b, WCO)  # GH is connected to A, WCO to B
    async with streaming(gh, wco), a.client(NG) as ng_a, b.client(NG) as ng_b:
        # One message through each stream's own process first: the stream is then connected,
        # has read its mailbox, and waits for a wake-up.
        local = [await alert(ng_a, [GH]), await alert(ng_b, [WCO])]
        await gh.wait_for(1)
        await wco.wait_for(1)
        # Then across: accepted by B for GH (on A), by A for WCO (on B), and both at once.
        across = [await alert(ng_b, [GH]), await alert(ng_a, [WCO]), await alert(ng_b, [GH, WCO])]
        assert [i["mid"] for i in await gh.wait_for(3)] == [local[0], across[0], across[2]]
        assert [i["mid"] for i in await wco.wait_for(3)] == [local[1], across[1], across[2]]


async def listeners(database_url: str, *, terminate: bool = False) -> int:
    """How many hub processes listen on this database; with ``terminate``, end their listening
    connections (as a failover or a network cut would)."""
    action = "pg_terminate_backend(pid)" if terminate else "pid"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        rows = await admin.fetch(
            f"SELECT {action} FROM pg_stat_activity"  # noqa: S608 - one of two fixed texts
            " WHERE datname = $1 AND application_name = $2",
            make_url(database_url).database, APPLICATION_NAME,
        )  # fmt: skip
    finally:
        await admin.close()
    return len(rows)


async def kill_listeners(database_url: str, expected: int) -> None:
    deadline = time.monotonic() + ARRIVE_WITHIN
    while await listeners(database_url) < expected:  # still reconnecting after the last time
        assert time.monotonic() < deadline, "the hubs did not listen again"
        await asyncio.sleep(0.1)
    assert await listeners(database_url, terminate=True) == expected


@on_postgresql
async def test_push_across_processes_survives_the_listening_connections_being_killed(
    pair: tuple[RunningHub, RunningHub],
) -> None:
    a, b = pair
    await enrol_world(a)
    gh = Stream(a, GH)
    async with streaming(gh), a.client(NG) as ng_a, b.client(NG) as ng_b:
        sent = [await alert(ng_a, [GH])]
        await gh.wait_for(1)
        for _ in range(3):
            await kill_listeners(a.database_url, 2)
            # At once, while both processes may still be reconnecting: a notification is lost
            # at worst, and then made good (a reconnected process wakes all its streams; one
            # whose publish failed tells everyone to look again).
            sent.append(await alert(ng_b, [GH]))
            assert [i["mid"] for i in await gh.wait_for(len(sent))] == sent
        # And once they are back, as usual.
        sent.append(await alert(ng_b, [GH]))
        assert [i["mid"] for i in await gh.wait_for(len(sent))] == sent
    for hub in (a, b):
        assert "listening for other hub processes again" in hub.log.read_text()


async def inbox(client: HubClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await client.inbox(after=after, limit=200)
        if not page.items:
            return items
        items += [i.wire() for i in page.items]
        after = int(page.next)


Key = tuple[str, str, str | None, str | None]


def key(item: dict[str, Any]) -> Key:
    """What an item is about: an envelope, or one receipt (by whom, which status) for one."""
    return (item["type"], item["mid"], item.get("by"), item.get("status"))


async def pgs(*args: str | Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", *map(str, args),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def audit_verify(hub: RunningHub, state: Path) -> tuple[int, str]:
    import tomllib

    log_key = tomllib.loads((hub.home / "config.toml").read_text())["log"]["verifier_key"]
    return await pgs(
        "audit", "verify", "--hub", hub.url, "--keys", hub.home / "people" / AUDITOR,
        "--authority", hub.home / "authority" / "authority.jwk.json", "--log-key", log_key,
        "--state", state,
    )  # fmt: skip


@on_postgresql
async def test_concurrent_traffic_through_two_processes_keeps_one_log_and_complete_streams(
    pair: tuple[RunningHub, RunningHub], tmp_path: Path
) -> None:
    a, b = pair
    await enrol_world(a)
    rounds = 5
    streams = [
        Stream(a, NG), Stream(a, GH), Stream(b, GH), Stream(b, CM), Stream(a, FR), Stream(b, WCO)
    ]  # fmt: skip
    expected: dict[str, Counter[Key]] = {p: Counter() for p in (NG, GH, CM, FR, WCO)}

    async def alerts(hub: RunningHub, sender: str) -> None:
        to = [p for p in (NG, GH, CM, FR, WCO) if p != sender]
        async with hub.client(sender) as client:
            for _ in range(rounds):
                mid = await alert(client, to)
                for p in to:
                    expected[p][("envelope", mid, None, None)] += 1

    async def broadcasts(hub: RunningHub) -> None:
        async with hub.client(WCO) as wco:
            for _ in range(rounds):
                sealed, accepted = await wco.send(
                    kind=MessageKind.NOTICE, content=example(MessageKind.NOTICE), group="WCA",
                    tlp=Tlp.GREEN,
                )  # fmt: skip
                assert sorted(accepted.recipients) == sorted(WCA)
                for p in WCA:
                    expected[p][("envelope", sealed.header.mid, None, None)] += 1

    async def acknowledge(hub: RunningHub, mids: list[tuple[str, str]]) -> None:
        async with hub.client(GH) as gh:
            for mid, sender in mids:
                await gh.ack(mid, ReceiptStatus.DELIVERED)
                expected[sender][("receipt", mid, GH, "delivered")] += 1

    async with streaming(*streams):
        await asyncio.gather(
            *(alerts(hub, sender) for hub in (a, b) for sender in (NG, CM, FR)),
            *(broadcasts(hub) for hub in (a, b)),
        )
        # GH acknowledges everything it got, half through each process, concurrently.
        async with a.client(GH) as gh:
            got = [(i["mid"], i["from"]) for i in await inbox(gh)]
        assert len(got) == 2 * rounds * 4  # from NG, CM, FR and (as a WCA member) WCO
        await asyncio.gather(acknowledge(a, got[0::2]), acknowledge(b, got[1::2]))

        for stream in streams:
            items = await stream.wait_for(sum(expected[stream.who].values()))
            cursors = [i["cursor"] for i in items]
            assert cursors == sorted(set(cursors)), f"{stream.who}: cursors out of order"
            assert Counter(map(key, items)) == expected[stream.who], stream.who
            # Nothing skipped: what was pushed is exactly the mailbox, read through the other
            # process once everything has settled.
            other = b if stream.hub is a else a
            async with other.client(stream.who) as client:
                assert await inbox(client) == items, stream.who

    # One log, in one order, whichever process wrote each entry.
    async with a.client(AUDITOR) as auditor:
        found = []
        while batch := await entries(auditor, len(found), len(found) + 1000):
            found += batch
    assert [e.index for e in found] == list(range(len(found)))
    events = Counter(e.decoded()["event"] for e in found)
    assert events["envelope.accepted"] == 2 * rounds * 4
    assert events["receipt.recorded"] == 2 * rounds * 4
    state = tmp_path / "audit-state.json"
    code, text = await audit_verify(a, state)
    assert code == 0, text
    code, text = await audit_verify(b, state)  # the other process's checkpoint extends it
    assert code == 0, text


async def _until(condition: Callable[[], bool], log: Path, what: str) -> None:
    deadline = time.monotonic() + ARRIVE_WITHIN
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}:\n{log.read_text()}")
        await asyncio.sleep(0.1)


def _worker_pids(log: Path) -> dict[int, int]:
    """Each worker's current pid, from the supervisor's log."""
    found = re.findall(r"worker (\d+) started with pid (\d+)", log.read_text())
    return {int(index): int(pid) for index, pid in found}  # the last start of each wins


def _ready(log: Path) -> int:
    return log.read_text().count("hub ready on database")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; its parent has not collected it yet


@on_postgresql
async def test_pgs_serve_with_two_workers_shares_one_tls_port_restarts_and_stops_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    tls = Tls(*make_ca(tmp_path))
    hub = await launch(
        tmp_path / "home", database_url, workers=2, tls=tls, stream={"recheck_seconds": HOUR}
    )
    pids: list[int] = []
    try:
        await _until(lambda: _ready(hub.log) == 2, hub.log, "the workers did not start")
        pids = list(_worker_pids(hub.log).values())
        assert len(pids) == 2
        assert all(map(_alive, pids))
        await hub.enrol(NG, "ncp")
        await hub.enrol(GH, "ncp")
        gh = Stream(hub, GH)
        async with streaming(gh):
            sent = []
            for _ in range(6):  # each through a new connection: either worker may take it
                async with hub.client(NG) as ng:
                    sent.append(await alert(ng, [GH]))
            assert [i["mid"] for i in await gh.wait_for(6)] == sent

        # /metrics sums what both workers counted, whichever of them answers the scrape.
        before, _ = await scrape.health_counts(hub.url, hub.ssl)
        for _ in range(20):  # each on a new connection: both workers take some
            assert await scrape.get(f"{hub.url}/v1/health", hub.ssl) == 200
        seen = {await scrape.health_counts(hub.url, hub.ssl) for _ in range(6)}
        assert seen == {(before + 20, before + 20)}

        # A client's second PATCH in flight might reach the other worker: they offer one at a
        # time (hub.services.upload_window).
        async with hub.client(NG) as ng:
            assert (await ng.upload_limits()).parts_in_flight == 1

        # A worker that dies is replaced; SIGHUP reaches every worker (each reloads the policy).
        os.kill(pids[1], signal.SIGKILL)
        await _until(lambda: _ready(hub.log) == 3, hub.log, "the worker was not replaced")
        pids.append(_worker_pids(hub.log)[1])
        async with hub.client(NG) as ng:
            assert (await ng.health()).status == "ok"
        hub.process.send_signal(signal.SIGHUP)
        await _until(
            lambda: hub.log.read_text().count("policy reloaded") == 2, hub.log, "no reload"
        )
    finally:
        code = hub.stop()
    log = hub.log.read_text()
    assert code == 0, log
    assert not any(map(_alive, pids)), log
    assert "Traceback" not in log, log


@on_postgresql
async def test_workers_stop_by_themselves_when_their_supervisor_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    hub = await launch(tmp_path / "home", database_url, workers=2)
    try:
        await _until(lambda: _ready(hub.log) == 2, hub.log, "the workers did not start")
        pids = list(_worker_pids(hub.log).values())
        os.kill(hub.process.pid, signal.SIGKILL)
        hub.process.wait(timeout=10)
        await _until(lambda: not any(map(_alive, pids)), hub.log, "orphaned workers kept running")
    finally:
        hub.stop()
    assert hub.log.read_text().count(f"supervising process {hub.process.pid} is gone") == 2


async def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_home(home, port=free_port())
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PGS_")}
    environment["COLUMNS"] = "200"
    run = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "pgs_hub", "serve", "--home", str(home), "--workers", "2"],
        capture_output=True, text=True, timeout=60, env=environment, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "--workers above 1 needs PostgreSQL" in run.stderr
    assert "one process write at a time" in run.stderr
    assert not (home / "hub.db").exists()  # refused before anything was opened
    helped = subprocess.run(
        [sys.executable, "-m", "pgs_hub", "serve", "--help"],
        capture_output=True, text=True, timeout=60, env=environment, check=False,
    )  # fmt: skip
    assert "--workers" in helped.stdout
    assert "SO_REUSEPORT" in helped.stdout
