"""The read coalescer (hub/services/coalesce.py) that answers streams woken together with one
mailbox read: requests made in the same turns of the loop share one load, each caller gets its
own result or its own exception, and requests made during a load form the next batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from pgs_hub.hub.services.coalesce import Coalescer


class Loads:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, requests: Sequence[int]) -> list[int | Exception]:
        self.batches.append(list(requests))
        if self.gate is not None:
            await self.gate.wait()
        return [ValueError(f"odd {r}") if r % 2 else r * 10 for r in requests]


async def test_requests_made_together_share_one_load_and_get_their_own_answers() -> None:
    coalescer: Coalescer[int, int] = Coalescer()
    load = Loads()
    answers = await asyncio.gather(
        *(coalescer.get(r, load) for r in range(6)), return_exceptions=True
    )
    assert load.batches == [[0, 1, 2, 3, 4, 5]]
    assert [a if isinstance(a, int) else str(a) for a in answers] == [
        0, "odd 1", 20, "odd 3", 40, "odd 5",
    ]  # fmt: skip
    assert (coalescer.batches, coalescer.requests) == (1, 6)
    # Alone, a request is loaded by itself (nothing waits for company).
    assert await coalescer.get(8, load) == 80
    assert load.batches[-1] == [8]


async def test_requests_made_during_a_load_form_the_next_batch() -> None:
    coalescer: Coalescer[int, int] = Coalescer()
    load = Loads()
    load.gate = asyncio.Event()
    first = [asyncio.create_task(coalescer.get(r, load)) for r in (0, 2)]
    while not load.batches:
        await asyncio.sleep(0)
    later = [asyncio.create_task(coalescer.get(r, load)) for r in (4, 6)]
    await asyncio.sleep(0)
    load.gate.set()
    assert await asyncio.gather(*first, *later) == [0, 20, 40, 60]
    assert load.batches == [[0, 2], [4, 6]]


async def test_a_failed_load_fails_its_whole_batch_and_only_it() -> None:
    coalescer: Coalescer[int, int] = Coalescer()
    calls = 0

    async def broken(requests: Sequence[int]) -> list[int | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")
        return list(requests)

    results = await asyncio.gather(
        coalescer.get(1, broken), coalescer.get(2, broken), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await coalescer.get(3, broken) == 3

    async def short(requests: Sequence[int]) -> list[int | Exception]:
        return []

    with pytest.raises(RuntimeError, match="one result per request"):
        await coalescer.get(4, short)


async def test_a_caller_that_stops_waiting_does_not_disturb_the_others() -> None:
    coalescer: Coalescer[int, int] = Coalescer()
    load = Loads()
    load.gate = asyncio.Event()
    gone = asyncio.create_task(coalescer.get(0, load))
    kept = asyncio.create_task(coalescer.get(2, load))
    while not load.batches:
        await asyncio.sleep(0)
    gone.cancel()
    load.gate.set()
    assert await kept == 20
    with pytest.raises(asyncio.CancelledError):
        await gone
