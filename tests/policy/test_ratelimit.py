"""Per-participant token buckets: bursts, refills, honest retry-after, bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgs_hub.hub.errors import RateLimited
from pgs_hub.hub.policy.ratelimit import RateLimiter

T0 = 1_000_000.0


def drain(limiter: RateLimiter, key: str, now: float) -> int:
    """Take until refused; how many were allowed."""
    taken = 0
    while True:
        try:
            limiter.take(key, now)
        except RateLimited:
            return taken
        taken += 1


def test_a_burst_then_refusal() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=5)
    assert drain(limiter, "NG-NCP-LAGOS", T0) == 5
    with pytest.raises(RateLimited) as caught:
        limiter.take("NG-NCP-LAGOS", T0)
    assert caught.value.code == "rate.limited"
    assert caught.value.retry_after == 1  # one token a second


def test_the_bucket_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=5)
    drain(limiter, "GH-NCP-ACCRA", T0)
    assert drain(limiter, "GH-NCP-ACCRA", T0 + 0.5) == 0
    assert drain(limiter, "GH-NCP-ACCRA", T0 + 1) == 1
    assert drain(limiter, "GH-NCP-ACCRA", T0 + 4) == 3
    assert drain(limiter, "GH-NCP-ACCRA", T0 + 3600) == 5  # never more than the burst


def test_retry_after_is_when_a_token_will_be_there() -> None:
    limiter = RateLimiter(rate_per_minute=6, burst=1)  # one token every 10 s
    limiter.take("CM-NCP-DOUALA", T0)
    with pytest.raises(RateLimited) as caught:
        limiter.take("CM-NCP-DOUALA", T0 + 2.5)
    assert caught.value.retry_after == 8  # 7.5 s, rounded up
    limiter.take("CM-NCP-DOUALA", T0 + 2.5 + 7.5)


def test_participants_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=2)
    assert drain(limiter, "NG-NCP-LAGOS", T0) == 2
    assert drain(limiter, "FR-NCP-PARIS", T0) == 2


def test_a_clock_stepping_back_adds_nothing() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=3)
    drain(limiter, "WCO-PGS", T0)
    assert drain(limiter, "WCO-PGS", T0 - 100) == 0
    assert drain(limiter, "WCO-PGS", T0 + 1) == 1


def test_idle_buckets_are_forgotten() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=10)  # full again after 10 s
    for n in range(1000):
        limiter.take(f"NG-NCP-P{n}", T0)
    assert len(limiter) == 1000
    limiter.take("GH-NCP-ACCRA", T0 + 10)
    assert len(limiter) == 1


def test_forgetting_an_idle_bucket_changes_nothing() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=3)
    drain(limiter, "NG-NCP-LAGOS", T0)
    limiter.take("GH-NCP-ACCRA", T0 + 3)  # evicts Lagos: its bucket is full again anyway
    assert drain(limiter, "NG-NCP-LAGOS", T0 + 3) == 3


def test_memory_is_capped() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=10, max_keys=100)
    for n in range(1000):
        limiter.take(f"NG-NCP-P{n}", T0 + n / 1000)
    assert len(limiter) == 100


@pytest.mark.parametrize(
    ("rate", "burst", "max_keys"), [(0, 1, 1), (-5, 1, 1), (60, 0, 1), (60, 1, 0)]
)
def test_nonsense_settings_are_refused(rate: float, burst: int, max_keys: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate, burst, max_keys=max_keys)


@pytest.mark.parametrize("cost", [0, -1, 11])
def test_a_cost_the_bucket_cannot_hold_is_refused(cost: float) -> None:
    with pytest.raises(ValueError, match="cost"):
        RateLimiter(60, 10).take("NG-NCP-LAGOS", T0, cost)


def test_a_larger_cost_takes_more_tokens() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=10)
    limiter.take("NG-NCP-LAGOS", T0, cost=8)
    assert drain(limiter, "NG-NCP-LAGOS", T0) == 2


@given(
    rate=st.integers(min_value=1, max_value=600),
    burst=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), max_size=200),
)
def test_never_more_than_burst_plus_rate(rate: int, burst: int, gaps: list[float]) -> None:
    """Over any run of requests, what is allowed is at most the burst plus what refilled."""
    limiter = RateLimiter(rate_per_minute=rate, burst=burst)
    now, allowed, waits = T0, 0, []
    for gap in gaps:
        now += gap
        try:
            limiter.take("NG-NCP-LAGOS", now)
        except RateLimited as refused:
            waits.append(refused.retry_after)
        else:
            allowed += 1
    assert allowed <= burst + (now - T0) * rate / 60 + 1e-9
    assert all(wait >= 1 for wait in waits)
