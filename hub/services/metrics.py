"""Prometheus metrics (prometheus_client): counters, callback gauges and latency histograms.

Each hub context has its own registry (nothing is registered at import, and tests run many hubs
in one process). Under ``pgs serve --workers N`` the supervisor gives every worker the same
``PROMETHEUS_MULTIPROC_DIR``: each process then writes its values to files there, and whichever
worker answers ``/metrics`` reports the sum over all of them (prometheus_client's multiprocess
mode). Callback gauges cannot be read across processes, so in that mode each worker copies its
readings into a ``livesum`` gauge (:meth:`Metrics.refresh`, before every scrape and every few
seconds), and the sum is over the live workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request latency buckets (seconds): a submission takes milliseconds; a slow database, seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HELP: dict[str, str] = {
    "pgs_envelopes_accepted_total": "Envelopes accepted, by kind.",
    "pgs_envelopes_rejected_total": "Envelope submissions rejected, by error code.",
    "pgs_receipts_total": "Receipts recorded, by status.",
    "pgs_http_requests_total": "HTTP requests answered, by route, method and status.",
    "pgs_http_request_duration_seconds": "Time to answer an HTTP request, by route and method.",
    "pgs_websocket_connections": "Connected WebSocket streams.",
    "pgs_websocket_too_slow_total": "Streams closed because a frame was not taken in time.",
    "pgs_envelope_writer_batches": "Envelope group commits.",
    "pgs_envelope_writer_items": "Envelopes acknowledged after a group commit.",
    "pgs_envelope_writer_failed_batches": "Envelope group commits that failed.",
    "pgs_nonce_writer_batches": "Nonce group commits.",
    "pgs_nonce_writer_items": "Nonces acknowledged after a group commit.",
    "pgs_nonce_writer_failed_batches": "Nonce group commits that failed.",
    "pgs_sqlite_wal_checkpoints": "Background checkpoints of the SQLite WAL.",
    "pgs_sqlite_wal_checkpoint_failures": "Background checkpoints of the SQLite WAL that failed"
    " (the pages stay in the WAL; nothing is lost).",
    "pgs_sqlite_wal_checkpoints_busy": "Background checkpoints that could not copy every page"
    " (a reader or writer held them).",
    "pgs_sqlite_wal_frames": "Pages in the SQLite WAL at the last background checkpoint.",
    "pgs_policy_decisions_total": "Policy decisions, by action and outcome (allowed or the"
    " refusal's code).",
    "pgs_security_events_total": "Refused requests recorded as security events, by code.",
    "pgs_upload_parts_followed_total": "Upload PATCHes taken while the part before them was"
    " still in flight (a window of two), by outcome (stored or not).",
    "pgs_witness_answers_total": "Witness rounds, by witness and outcome (cosigned, refused,"
    " unreachable, ahead).",
}


class Metrics:
    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROC_ENV) or None
        # Single process: metrics register here. Multiprocess: they live in files, and a fresh
        # registry with a MultiProcessCollector reads them all at each scrape.
        self.registry: CollectorRegistry | None = (
            None if self.multiprocess_dir else CollectorRegistry(auto_describe=True)
        )
        self.counters: dict[str, Counter] = {}
        # The labelled child of each (metric, labels) seen: prometheus_client's labels() checks
        # the names and takes a lock on every call, several times per request; the children
        # never change once made.
        self._children: dict[tuple[object, ...], Any] = {}
        self.gauges: dict[str, tuple[Gauge, Callable[[], float]]] = {}
        self.requests = Counter(
            "pgs_http_requests", HELP["pgs_http_requests_total"],
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "pgs_http_request_duration_seconds", HELP["pgs_http_request_duration_seconds"],
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip

    def inc(self, name: str, value: float = 1, **labels: str) -> None:
        counter = self.counters.get(name)
        if counter is None:
            counter = Counter(
                name.removesuffix("_total"), HELP.get(name, name), sorted(labels),
                registry=self.registry,
            )  # fmt: skip
            self.counters[name] = counter
        if not labels:
            counter.inc(value)
            return
        key = (name, *labels.items())
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = counter.labels(**labels)
        child.inc(value)

    def total(self, name: str) -> float:
        """The sum of counter ``name`` over its labels, in this process (0 if never counted)."""
        counter = self.counters.get(name)
        if counter is None:
            return 0.0
        return sum(
            sample.value
            for family in counter.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
        )

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        """A gauge whose value is ``read()`` at scrape time (copied, in multiprocess mode)."""
        gauge = Gauge(
            name, HELP.get(name, name), registry=self.registry, multiprocess_mode="livesum"
        )
        if self.multiprocess_dir is None:
            gauge.set_function(read)
        self.gauges[name] = (gauge, read)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        counted_key = ("requests", route, method, status)
        counted = self._children.get(counted_key)
        if counted is None:
            counted = self.requests.labels(route=route, method=method, status=str(status))
            self._children[counted_key] = counted
        counted.inc()
        if route != "/v1/stream":  # a stream's "request" lasts as long as the connection
            timed_key = ("latency", route, method)
            timed = self._children.get(timed_key)
            if timed is None:
                timed = self._children[timed_key] = self.latency.labels(route=route, method=method)
            timed.observe(seconds)

    def refresh(self) -> None:
        """Multiprocess mode: copy this process's callback gauges into its files."""
        if self.multiprocess_dir is not None:
            for gauge, read in self.gauges.values():
                gauge.set(read())

    def render(self) -> bytes:
        """The text exposition of every metric (of every worker, in multiprocess mode)."""
        if self.registry is not None:
            return generate_latest(self.registry)
        self.refresh()
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=self.multiprocess_dir
        )
        return generate_latest(registry)


def worker_died(multiprocess_dir: str, pid: int) -> None:
    """Forget a dead worker's live gauges (its counters keep counting in the totals)."""
    prometheus_multiprocess.mark_process_dead(pid, multiprocess_dir)  # type: ignore[no-untyped-call]
