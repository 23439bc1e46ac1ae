"""Per-participant rate limiting: a token bucket each, in memory, with the time passed in.

Each key (a participant id) has a bucket of at most ``burst`` tokens that refills at
``rate_per_minute / 60`` tokens a second; a request takes one token or is refused with
:class:`~hub.errors.RateLimited` saying how many whole seconds until it would succeed.

Memory is bounded: a bucket left alone for ``burst / rate`` seconds is full again, which is the
same as having no bucket, so such buckets are dropped as requests come in (oldest first). If more
than ``max_keys`` buckets are still in use, the least recently used one is dropped — that
participant starts again with a full bucket, which is the only approximation made.

Not thread-safe: the hub calls it from its one event loop. Counts are per hub process.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from pgs_hub.hub.errors import RateLimited

__all__ = ["RateLimiter"]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by participant id."""

    def __init__(self, rate_per_minute: float, burst: int, *, max_keys: int = 100_000) -> None:
        if rate_per_minute <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate_per_minute must be positive, burst and max_keys at least 1")
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self.max_keys = max_keys
        self._per_second = rate_per_minute / 60
        self._refill_seconds = burst / self._per_second  # an idle bucket is full after this
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        """How many buckets are held (for tests and metrics)."""
        return len(self._buckets)

    def take(self, key: str, now: float, cost: float = 1.0) -> None:
        """Take ``cost`` tokens from ``key``'s bucket at time ``now`` (seconds) or raise
        :class:`RateLimited` with ``retry_after`` in whole seconds (at least 1)."""
        if not 0 < cost <= self.burst:
            raise ValueError("cost must be positive and at most the burst")
        self._evict_idle(now)
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.burst), updated=now)
        elapsed = max(0.0, now - bucket.updated)  # a clock stepping back never adds tokens
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self._per_second)
        bucket.updated = max(bucket.updated, now)
        self._buckets[key] = bucket  # most recently used last
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return
        wait = (cost - bucket.tokens) / self._per_second
        raise RateLimited(
            f"too many requests: at most {self.rate_per_minute:g} a minute"
            f" (bursts of {self.burst}); try again shortly",
            retry_after=max(1, math.ceil(wait)),
        )

    def _evict_idle(self, now: float) -> None:
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if now - oldest.updated < self._refill_seconds:
                return
            del self._buckets[key]
