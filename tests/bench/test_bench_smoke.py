"""Smoke test of the hub benchmark (``python -m bench.hub_bench``): every part at tiny sizes against
real processes (a hub on SQLite, the bare aiohttp baseline, hubs on PostgreSQL with one and two
workers, the audit-log hub), checking that the report holds every figure and that nothing failed.

No timing is asserted: speed is the benchmark's business, never the suite's (bench/README.md).
matplotlib is not needed: the chart is left out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bench import hub_bench, log_bench, verify_threads
from bench.load import ClientPool
from bench.report import write_json
from bench.world import Processes, split_cpus


def tiny(tmp_path: Path) -> hub_bench.Settings:
    return hub_bench.Settings(
        quick=True, clients=2, concurrency=4, sends=50, seconds=30.0, open_sends=20,
        open_seconds=1.0, e2e_rate=40.0, e2e_seconds=0.5, listeners=2, members=5, broadcasts=2,
        idle=3, settle=0.1, upload_mb=1, upload_rounds=1, log_entries=60, log_requests=5,
        workers=True,
        json_out=tmp_path / "hub.json", chart=False,
    )  # fmt: skip


def no_machine_paths(report: Path, tmp_path: Path) -> dict[str, Any]:
    """Committed results carry no machine paths: neither the repository's nor the run's folders."""
    text = report.read_text()
    assert str(log_bench.REPOSITORY) not in text
    assert str(tmp_path) not in text
    doc: dict[str, Any] = json.loads(text)
    assert doc["parameters"]["json_out"] == "<outside the repository>/hub.json"
    return doc


def check_upload(upload: dict[str, Any]) -> None:
    assert upload["ciphertext_bytes"] > 1_000_000  # the 1 MB file, encrypted
    assert upload["patches_per_upload"] * upload["max_part_bytes"] >= upload["ciphertext_bytes"]
    assert upload["part_bytes"] <= upload["first_part_bytes"] <= upload["max_part_bytes"]
    assert upload["hub_mb_per_s"]["median"] > 0
    assert upload["baseline_mb_per_s"]["median"] > 0


def check_half_load(half: dict[str, Any], closed_loop: dict[str, Any]) -> None:
    assert half["accepted"] == half["requests"] > 0
    assert half["errors"] == {}
    assert half["latency"]["n"] == half["accepted"]
    assert half["rate_chosen"] == "half of max"  # no --open-rate given
    assert half["offered_per_s"] == pytest.approx(closed_loop["per_s"] / 2)
    for figures in (half, closed_loop):  # one thread's time on a CPU over the wall time
        # A fraction of one thread's wall time, not CPU ticks or ms: the kernel updates it at
        # scheduler ticks, so a tiny run can read a little over 1.
        assert 0 < figures["hub_loop_busy"] < 2


async def test_every_part_runs_and_reports_sane_figures(tmp_path: Path) -> None:
    settings = tiny(tmp_path)
    processes = Processes()
    (tmp_path / "work").mkdir()
    try:
        report = await hub_bench.run_all(settings, tmp_path / "work", processes)
    finally:
        processes.stop_all()
    write_json(report, settings.json_out)
    doc = no_machine_paths(settings.json_out, tmp_path)

    assert doc["hub_exit_status"] == 0
    assert doc["errors"] == {}  # nothing refused, nothing failed
    assert "stream_errors" not in doc
    assert {"machine", "parameters", "setup", "phase_seconds", "targets"} <= set(doc)
    assert doc["setup"]["participants"] == 5 + 3 + 2 + 1  # members, desks, listeners, WCO staff
    assert doc["setup"]["alert_content_bytes"] == 2048
    for r in ("1", "3"):
        hub, base = doc["throughput"][r]["hub"], doc["throughput"][r]["baseline"]
        assert hub["accepted"] == hub["requests"] == 50  # every sealed alert, once, accepted
        assert base["accepted"] == base["requests"] > 0
        assert hub["errors"] == base["errors"] == {}
        assert hub["per_s"] > 0
        assert doc["throughput"][r]["hub_over_baseline"] > 0
        assert hub["latency"]["p50_ms"] <= hub["latency"]["p99_ms"]
        # CPU in clock ticks (10 ms): a short baseline run may have used less than one.
        assert min(hub["cpu_seconds"], hub["cpu_ms_per_accepted"]) > 0
        assert base["cpu_ms_per_accepted"] is not None
        check_half_load(doc["half_load"][r], hub)
    delivery = doc["ws_delivery"]
    assert delivery["sent"] == delivery["accepted"] == delivery["received"] == 20
    assert 0 < delivery["delivery"]["min_ms"] <= delivery["delivery"]["p99_ms"]
    assert doc["idle_ws"]["open"] == 3
    assert doc["idle_ws"]["rss_after_mb"] > 0
    broadcast = doc["broadcast"]
    assert broadcast["members"] == 5
    assert broadcast["missing"] == 0
    assert len(broadcast["to_last_ms"]["rounds"]) == 2
    assert all(t > 0 for t in broadcast["to_last_ms"]["rounds"])
    check_upload(doc["upload"])
    workers = doc["workers"]
    for n in ("1", "2"):
        assert workers[n]["accepted"] == workers[n]["requests"] == 50
        assert workers[n]["errors"] == {}
    assert workers["two_over_one"] > 0
    audit_log = doc["audit_log"]
    assert audit_log["checkpoint"]["size"] == 60
    assert audit_log["verification"]["sequential"]["root_matches_checkpoint"]
    # The auditor's own tool verified the same log (it raises unless it said so, exit 0).
    assert audit_log["verification"]["tool"]["seconds"] > 0
    names = [t["name"] for t in doc["targets"]]
    assert len(names) == 13, names  # sends/s and CPU per envelope (1 and 3), and 9 more
    assert all(isinstance(t["met"], bool) for t in doc["targets"])


def test_a_fixed_offered_rate_replaces_half_of_the_maximum() -> None:
    """``--open-rate`` is how two versions' latencies are compared at one rate; it must be a
    positive rate, and without it part 3 follows each run's own maximum."""
    assert hub_bench.parse_args(["--quick"]).open_rate is None
    assert hub_bench.parse_args(["--quick", "--open-rate", "450"]).open_rate == 450.0
    with pytest.raises(SystemExit):
        hub_bench.parse_args(["--quick", "--open-rate", "0"])


def test_pinning_puts_the_server_on_one_cpu_and_the_clients_on_the_others(tmp_path: Path) -> None:
    """``--pin``: the server under test and the load it is given do not share a core. Checked on
    real processes: a server started by ``Processes`` and a client of the pool."""
    assert split_cpus({3, 1, 2}) == ({1}, {2, 3})
    with pytest.raises(ValueError, match="two CPUs"):
        split_cpus({0})
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:  # pragma: no cover - this project's machines have two CPUs or more
        pytest.skip("one CPU: nothing to pin apart")
    servers, clients = split_cpus(cpus)
    processes = Processes(server_cpus=servers)
    sleeper = ["-c", "import time; time.sleep(60)"]
    try:
        pinned = processes.start("pinned", sleeper, 0, tmp_path / "pinned.log")
        free = processes.start("free", sleeper, 0, tmp_path / "free.log", pinned=False)
        assert os.sched_getaffinity(pinned.popen.pid) == servers
        assert os.sched_getaffinity(free.popen.pid) == cpus
    finally:
        processes.stop_all()
    with ClientPool(1, clients) as pool:
        assert [os.sched_getaffinity(pid) for pid in pool.pids] == [clients]
    assert hub_bench.parse_args(["--quick", "--pin"]).pin
    assert not hub_bench.parse_args(["--quick"]).pin


def test_the_verification_thread_benchmark_runs_and_reports_both_ways(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bench/verify_threads.py (cited by hub/services/submission.py) still runs: both
    measurements, inline and on the pool, each with a rate, a CPU figure and a median."""
    verify_threads.main(["--count", "20", "--tasks", "4", "--seconds", "0.1", "--python-us", "50"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1. 40 verifications: one thread ")
    runs = [line.split()[1] for line in lines[1:]]
    assert runs == ["inline", "pool", "inline", "pool"]
    for line in lines[1:]:
        assert "ops/s, loop thread" in line
        assert "ms CPU/op, median" in line
        assert float(line.split()[2].replace(",", "")) > 0
