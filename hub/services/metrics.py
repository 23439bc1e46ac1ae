"""Prometheus metrics, in the text exposition format (version 0.0.4).

A handful of counters and gauges do not justify a dependency: the format is a few lines of text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class Metrics:
    def __init__(self) -> None:
        self.counters: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.gauges: dict[str, Callable[[], float]] = {}
        self.help: dict[str, str] = {
            "pgs_envelopes_accepted_total": "Envelopes accepted, by kind.",
            "pgs_envelopes_rejected_total": "Envelope submissions rejected, by error code.",
            "pgs_receipts_total": "Receipts recorded, by status.",
            "pgs_requests_total": "API requests, by route and status.",
            "pgs_websocket_connections": "Connected WebSocket streams.",
            "pgs_websocket_too_slow_total": "Streams closed because a frame was not taken in time.",
            "pgs_envelope_writer_batches": "Envelope group commits.",
            "pgs_envelope_writer_items": "Envelopes acknowledged after a group commit.",
            "pgs_envelope_writer_failed_batches": "Envelope group commits that failed.",
            "pgs_nonce_writer_batches": "Nonce group commits.",
            "pgs_nonce_writer_items": "Nonces acknowledged after a group commit.",
            "pgs_nonce_writer_failed_batches": "Nonce group commits that failed.",
            "pgs_policy_decisions_total": "Policy decisions, by action and outcome (allowed or"
            " the refusal's code).",
            "pgs_security_events_total": "Refused requests recorded as security events, by code.",
        }

    def inc(self, name: str, value: float = 1, **labels: str) -> None:
        self.counters[(name, tuple(sorted(labels.items())))] += value  # type: ignore[assignment]

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        self.gauges[name] = read

    def render(self) -> str:
        lines: list[str] = []
        names = sorted({name for name, _ in self.counters} | set(self.gauges))
        for name in names:
            if name in self.help:
                lines.append(f"# HELP {name} {self.help[name]}")
            kind = "gauge" if name in self.gauges else "counter"
            lines.append(f"# TYPE {name} {kind}")
            if name in self.gauges:
                lines.append(f"{name} {self.gauges[name]()}")
                continue
            for (counter, labels), value in sorted(self.counters.items()):
                if counter == name:
                    text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                    lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
