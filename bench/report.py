"""Figures from raw samples, the targets of issues 5 and 17, and the three outputs of a run: a JSON
file with every figure, a PNG chart (throughput and latency), and a table on the terminal.

Only :func:`write_chart` needs matplotlib (the ``bench`` extra); it is imported there, so the rest
(and the smoke test) runs without it.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.table import Table

from bench import log_bench
from bench.load import NS, Samples

MS: Final = 1_000_000


def latency(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p95/p99/mean/min/max in ms (``log_bench.latency``); ``{"n": 0}`` without samples."""
    return log_bench.latency(samples_ns) if samples_ns else {"n": 0}


def accepted(status: int) -> bool:
    return 200 <= status < 300


def throughput(samples: Samples) -> dict[str, Any]:
    """Closed loop: accepted requests per second from the first send to the last answer, and
    the latency of the accepted ones."""
    ok = [e - s for s, e, st in zip(samples.start, samples.end, samples.status, strict=True)
          if accepted(st)]  # fmt: skip
    span = (max(samples.end) - min(samples.start)) if samples.end else 0
    return {
        "requests": len(samples.status),
        "accepted": len(ok),
        "errors": dict(samples.errors),
        "seconds": span / NS,
        "per_s": len(ok) * NS / span if span else 0.0,
        "latency": latency(ok),
    }


def scheduled(samples: Samples, rate: float) -> dict[str, Any]:
    """Open loop: latency from each request's *scheduled* time (what a user waits), from its
    actual start (what the server took), and how late the client started it."""
    rows = list(zip(samples.scheduled, samples.start, samples.end, samples.status, strict=True))
    ok = [r for r in rows if accepted(r[3])]
    span = (max(samples.end) - min(samples.scheduled)) if rows else 0
    return {
        "offered_per_s": rate,
        "requests": len(rows),
        "accepted": len(ok),
        "errors": dict(samples.errors),
        "seconds": span / NS,
        "latency": latency([end - sched for sched, _, end, _ in ok]),
        "service": latency([end - start for _, start, end, _ in ok]),
        "client_lag": latency([start - sched for sched, start, _, _ in rows]),
    }


# --- targets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    result: str
    baseline: str
    value: float  # in the limit's unit
    limit: float
    higher_is_better: bool
    unit: str  # "x" (a ratio), "ms", "MB" or "s"
    note: str = ""

    def show(self, value: float) -> str:
        if self.unit == "x":
            return f"x{value:.2f}"
        digits = 2 if self.unit == "s" or value < 10 else 0 if value >= 100 else 1
        return f"{value:,.{digits}f} {self.unit}"

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    @property
    def ratio(self) -> float:
        return self.value / self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "higher_is_better": self.higher_is_better,
            "unit": self.unit,
            "ratio_to_limit": self.ratio,
            "met": self.met,
            "note": self.note,
        }


# Issue 17's targets where they differ from issue 5's: sends/s against the bare aiohttp handler,
# and the hub's CPU per envelope that ratio stands for.
SENDS_OVER_BASELINE: Final = 0.25
CPU_MS_PER_ENVELOPE: Final = 0.35


def _ms(figures: dict[str, Any]) -> str:
    if not figures.get("n"):
        return "no samples"
    return f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} / {figures['p99_ms']:.1f} ms"


def targets(report: dict[str, Any]) -> list[Target]:
    """The issue's targets, for the parts of the run that took place."""
    found: list[Target] = []
    for r, t in report.get("throughput", {}).items():
        hub, base = t["hub"], t["baseline"]
        found.append(Target(
            f"sends/s, {r} recipient{'s' if r != '1' else ''}, SQLite, 1 process",
            f"{hub['per_s']:,.0f} /s (p99 {hub['latency'].get('p99_ms', 0):.0f} ms)",
            f"bare aiohttp {base['per_s']:,.0f} req/s",
            t["hub_over_baseline"], SENDS_OVER_BASELINE, higher_is_better=True, unit="x",
            note="sends/s / same-run bare aiohttp req/s (issue 17: 0.25; issue 5 asked 0.40)",
        ))  # fmt: skip
        if None not in (hub.get("cpu_ms_per_accepted"), base.get("cpu_ms_per_accepted")):
            found.append(Target(
                f"hub CPU per envelope, {r} recipient{'s' if r != '1' else ''}",
                f"{hub['cpu_ms_per_accepted']:.3f} ms ({hub['cpu_seconds']:.1f} s CPU)",
                f"bare aiohttp {base['cpu_ms_per_accepted']:.3f} ms per request",
                hub["cpu_ms_per_accepted"], CPU_MS_PER_ENVELOPE, higher_is_better=False,
                unit="ms",
                note="hub process CPU (user + system, every thread) / accepted sends; it moves"
                " far less than wall-clock rates when other work shares the machine",
            ))  # fmt: skip

    def _loop(h: dict[str, Any]) -> str:
        busy = h.get("hub_loop_busy")
        return "" if busy is None else f"; hub loop busy {100 * busy:.0f} %"

    def _chosen(h: dict[str, Any]) -> str:
        return "fixed" if h.get("rate_chosen") == "fixed" else "½ of max"

    for r, h in report.get("half_load", {}).items():
        found.append(Target(
            f"p99 submit latency, {r} recipient{'s' if r != '1' else ''}, half load",
            _ms(h["latency"]),
            f"at {h['offered_per_s']:,.0f}/s ({_chosen(h)}); server alone p99"
            f" {h['service'].get('p99_ms', 0):.1f} ms{_loop(h)}",
            h["latency"].get("p99_ms", float("inf")), 20.0, higher_is_better=False, unit="ms",
            note="p99 from the scheduled send time",
        ))  # fmt: skip
    if "ws_delivery" in report:
        w = report["ws_delivery"]
        over = w["offered_per_s"] > w["max_per_s"]
        found.append(Target(
            f"WS delivery p99 at {w['offered_per_s']:,.0f} msg/s",
            f"{_ms(w['delivery'])}; {w['received']}/{w['accepted']} accepted received"
            + (f" [yellow](above the max, {w['max_per_s']:,.0f}/s)[/]" if over else ""),
            f"submit alone p99 {w['submit'].get('p99_ms', 0):.1f} ms",
            w["delivery"].get("p99_ms", float("inf")) if w["received"] == w["accepted"]
            else float("inf"),
            25.0, higher_is_better=False, unit="ms",
            note="p99 of receive time - scheduled send time; the target is at 1,000 msg/s",
        ))  # fmt: skip
    if "broadcast" in report:
        b = report["broadcast"]
        found.append(Target(
            f"broadcast to {b['members']} connected members",
            f"median {b['to_last_ms']['median']:.0f} ms, max {b['to_last_ms']['max']:.0f} ms",
            f"acceptance alone median {b['accepted_ms']['median']:.0f} ms",
            b["to_last_ms"]["median"] if not b["missing"] else float("inf"),
            250.0, higher_is_better=False, unit="ms",
            note="submit to the last member's receive; median over rounds",
        ))  # fmt: skip
    if "upload" in report:
        u = report["upload"]
        found.append(Target(
            f"attachment upload, {u['ciphertext_bytes'] / 1e6:.0f} MB",
            f"{u['hub_mb_per_s']['median']:.1f} MB/s ({u['patches_per_upload']} PATCHes,"
            f" the first of {u.get('first_part_bytes', u['part_bytes']) // 1024} KiB, up to"
            f" {u['max_part_bytes'] // 1024} KiB, {u.get('parts_in_flight', 1)} in flight)",
            f"bare aiohttp streaming {u['baseline_mb_per_s']['median']:.1f} MB/s",
            u["hub_over_baseline"], 0.5, higher_is_better=True, unit="x",
            note="hub tus upload MB/s / same-run bare aiohttp streaming upload MB/s; medians",
        ))  # fmt: skip
    if "idle_ws" in report:
        i = report["idle_ws"]
        found.append(Target(
            f"hub RSS with {i['open']:,} idle WebSockets",
            f"{i['rss_after_mb']:.0f} MB ({i['per_connection_kb']:.1f} KB each)",
            f"no connections {i['rss_before_mb']:.0f} MB",
            i["rss_after_mb"], 300.0, higher_is_better=False, unit="MB",
            note="hub RSS, its children included; the target is for 1,000",
        ))  # fmt: skip
    if "workers" in report:
        w = report["workers"]
        found.append(Target(
            "2 workers vs 1, PostgreSQL",
            f"{w['2']['per_s']:,.0f} /s with 2 ({w['method']})",
            f"1 worker {w['1']['per_s']:,.0f} /s",
            w["two_over_one"], 1.6, higher_is_better=True, unit="x",
            note="sends/s with 2 workers / with 1",
        ))  # fmt: skip
    if "audit_log" in report:
        a = report["audit_log"]
        n = a["entries"]
        service = a["proof_service"]["service_inclusion"]
        found.append(Target(
            f"inclusion proof at {n:,} entries",
            f"p50 {service['p50_ms']:.2f} ms (CPU {service['cpu_p50_ms']:.2f})",
            f"over HTTP p50 {a['http']['inclusion']['p50_ms']:.2f} ms",
            service["p50_ms"], 2.0, higher_is_better=False, unit="ms",
            note="hub service p50 (as bench/log_bench.py); the target is at 10^6",
        ))  # fmt: skip
        v = a["verification"]
        limit = 20.0 * n / 1_000_000
        found.append(Target(
            f"full verification of {n:,} entries",
            f"{v['sequential']['seconds']:.2f} s ({v['pipelined']['seconds']:.2f} s pipelined"
            + (f", {v['tool']['seconds']:.2f} s by pgs audit verify)" if "tool" in v else ")"),
            f"recompute alone {v['recompute']['compact_range_seconds']:.2f} s",
            v["sequential"]["seconds"], limit, higher_is_better=False, unit="s",
            note="one page at a time; 20 s x N / 10^6",
        ))  # fmt: skip
    return found


def errors(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Every refused or failed request of the run, by part."""
    found: dict[str, dict[str, int]] = {}
    for r, t in report.get("throughput", {}).items():
        found[f"sends, {r} recipient(s), hub"] = t["hub"]["errors"]
        found[f"sends, {r} recipient(s), baseline"] = t["baseline"]["errors"]
    for r, h in report.get("half_load", {}).items():
        found[f"half load, {r} recipient(s)"] = h["errors"]
    if "ws_delivery" in report:
        found["WebSocket delivery, sends"] = report["ws_delivery"]["errors"]
    for name, streams in report.get("stream_errors", {}).items():
        found[f"opening streams {name!r}"] = streams
    for n in ("1", "2"):
        if n in report.get("workers", {}):
            found[f"PostgreSQL, {n} worker(s)"] = report["workers"][n]["errors"]
    return {part: e for part, e in found.items() if e}


def table(report: dict[str, Any]) -> Table:
    title = "Global Shield Hub" + (" (--quick)" if report["parameters"]["quick"] else "")
    out = Table(title=f"{title}: the targets of issues 5 and 17 (latency: p50 / p95 / p99)")
    for column in ("measure", "result", "baseline, same run", "measured", "target", ""):
        out.add_column(column)
    for t in targets(report):
        sign = "≥" if t.higher_is_better else "≤"
        out.add_row(
            t.name,
            t.result,
            t.baseline,
            t.show(t.value),
            f"{sign} {t.show(t.limit)}",
            "[green]PASS" if t.met else "[red]MISS",
        )
    failed = errors(report)
    if failed:
        out.caption = "[red]refused or failed: " + "; ".join(
            f"{part} {dict(e)}" for part, e in failed.items()
        )
    return out


# --- files ----------------------------------------------------------------------------------------


def write_json(report: dict[str, Any], path: Path) -> None:
    report["targets"] = [t.to_json() for t in targets(report)]
    report["errors"] = errors(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _bars(report: dict[str, Any]) -> list[tuple[str, float, str]]:
    bars: list[tuple[str, float, str]] = []
    for r, t in report.get("throughput", {}).items():
        bars.append((f"bare aiohttp\n{r} rcpt", t["baseline"]["per_s"], "tab:gray"))
        bars.append((f"hub SQLite\n{r} rcpt", t["hub"]["per_s"], "tab:blue"))
    if "workers" in report:
        for n in ("1", "2"):
            label = f"hub PG\n{n} worker{'s' if n == '2' else ''}"
            bars.append((label, report["workers"][n]["per_s"], "tab:green"))
    return bars


def _latencies(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for r, t in report.get("throughput", {}).items():
        rows.append((f"submit, max load\n{r} rcpt", t["hub"]["latency"]))
    for r, h in report.get("half_load", {}).items():
        rows.append((f"submit, ½ load\n{r} rcpt", h["latency"]))
    if "ws_delivery" in report:
        w = report["ws_delivery"]
        rows.append((f"WS delivery\n{w['offered_per_s']:,.0f}/s", w["delivery"]))
    if "broadcast" in report:
        b = report["broadcast"]["to_last_ms"]
        rows.append((f"broadcast\n{report['broadcast']['members']} members", {
            "n": len(b["rounds"]), "p50_ms": b["median"],
            "p95_ms": b["max"], "p99_ms": b["max"],
        }))  # fmt: skip
    return [(label, f) for label, f in rows if f.get("n")]


def write_chart(report: dict[str, Any], path: Path) -> bool:
    """Two panels: throughput (hub and same-run baseline), latency percentiles. False when
    matplotlib is missing (``pip install -e '.[bench]'``)."""
    try:
        import matplotlib as mpl  # noqa: PLC0415 - optional, only for the chart

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return False
    bars, lat = _bars(report), _latencies(report)
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5), width_ratios=(1, 1.4))
    if bars:
        labels, values, colours = zip(*bars, strict=True)
        drawn = left.bar(labels, values, color=colours)
        left.bar_label(drawn, fmt="{:,.0f}", fontsize=8)
    left.set_title("throughput (accepted requests/s)")
    left.set_ylabel("per second")
    left.tick_params(axis="x", labelsize=8)
    width = 0.27
    for k, (name, colour) in enumerate(
        (("p50_ms", "tab:blue"), ("p95_ms", "tab:orange"), ("p99_ms", "tab:red"))
    ):
        xs = [n + (k - 1) * width for n in range(len(lat))]
        right.bar(xs, [f[name] for _, f in lat], width, label=name[:3], color=colour)
    right.set_xticks(range(len(lat)), [label for label, _ in lat], fontsize=8)
    right.set_yscale("log")
    right.set_ylabel("ms (log scale)")
    right.set_title("latency (broadcast: median and max over rounds)")
    for limit, label in ((20, "20 ms"), (25, "25 ms"), (250, "250 ms")):
        right.axhline(limit, color="grey", linestyle=":", linewidth=0.8)
        right.annotate(label, (len(lat) - 0.5, limit), fontsize=7, color="grey", va="bottom")
    right.legend(fontsize=8)
    machine = report["machine"]
    figure.suptitle(
        f"Global Shield Hub, {report['date']}, {machine['cpus']} CPUs (load average"
        f" {machine['load_average_at_start'][0]:.1f} at the start), Python {machine['python']},"
        f" commit {machine['commit'][:10]}{'+' if machine['tree_modified'] else ''}"
        + (" (--quick)" if report["parameters"]["quick"] else ""),
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def median_max(values: Sequence[float]) -> dict[str, Any]:
    return {
        "rounds": list(values),
        "median": statistics.median(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
    }
