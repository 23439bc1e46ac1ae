"""kill -9 of the hub at a seeded random moment during concurrent submissions, on SQLite and
PostgreSQL. After a restart on the same home and database, every envelope whose acknowledgement
reached its sender is in each recipient's inbox exactly once; the others are there at most once,
and once resubmitted (idempotent by message id) exactly once."""

from __future__ import annotations

import asyncio
import random

import aiohttp

from tests.e2e.harness import RunningHub
from tests.faults import figures
from tests.faults.hubproc import (
    Outgoing,
    acknowledged,
    kill,
    presealed,
    restart,
    submit_once,
    tally,
    world,
)

SENDERS_AT_ONCE = 4
PER_ROUND = 24


async def _round(hub: RunningHub, rng: random.Random, tag: int, earlier: list[Outgoing]) -> None:
    batch = await presealed(hub, PER_ROUND, tag)
    kill_after = rng.randint(2, PER_ROUND - SENDERS_AT_ONCE - 2)  # acknowledgements before the kill
    acked: list[Outgoing] = []
    queue = list(batch)

    async def sender(session: aiohttp.ClientSession) -> None:
        while queue:
            item = queue.pop(0)
            status, doc = await submit_once(session, hub.url, item)
            if acknowledged(status, doc, item):
                acked.append(item)
                if len(acked) == kill_after:
                    kill(hub)  # at once, while the other senders' requests are in flight
            elif status is not None and status < 500:
                raise AssertionError(f"refused before the kill: {status} {doc}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(sender(session) for _ in range(SENDERS_AT_ONCE)))
    assert hub.process.poll() is not None, "the hub was not killed"
    unacked = [o for o in batch if o not in acked]
    assert unacked, "every envelope was acknowledged: the kill came too late to test anything"

    await restart(hub)
    before = await tally(hub, must=earlier + acked, may=unacked)
    recovered = 0
    async with hub.client(None) as anonymous:
        for item in unacked:
            await anonymous.submit(item.raw)  # idempotent: 200 if it was stored, 201 if not
            recovered += 1
    after = await tally(hub, must=earlier + batch, may=[])
    figures.record(
        f"kill -9 during sends ({hub.database_url.split('+')[0]})",
        acknowledged=len(acked),
        lost=before.lost + after.lost,
        duplicated=before.duplicated + after.duplicated,
        recovered=recovered,
    )
    assert (before.lost, before.duplicated, before.unexpected) == (0, 0, 0), before
    assert (after.lost, after.duplicated, after.unexpected) == (0, 0, 0), after
    earlier += batch


async def test_kill_9_during_concurrent_sends_loses_and_repeats_nothing(
    fault_hub: RunningHub,
) -> None:
    await world(fault_hub)
    rng = random.Random(9)
    sent: list[Outgoing] = []
    for tag in range(figures.repeat(2, 10)):
        await _round(fault_hub, rng, tag, sent)
