"""Lost responses and connection resets between a sender and the hub, through the fault proxy of
tests/faults/proxy.py: the client retries idempotently and each message is stored exactly once."""

from __future__ import annotations

import random
from collections import Counter

from pgs_hub.hub.client import HubClient
from tests.e2e.harness import RunningHub
from tests.faults import figures
from tests.faults.hubproc import SENDERS, presealed, tally, world
from tests.faults.proxy import FaultProxy, Mode

FAULTS = (Mode.DROP_RESPONSE, Mode.RESET_REQUEST)


def _plan(rng: random.Random, requests: int) -> list[Mode]:
    """Faults on over half the requests, never more than two in a row (the client tries 4 times)."""
    plan: list[Mode] = []
    run = 0
    while len(plan) < requests * 2:
        if run < 2 and rng.random() < 0.6:
            plan.append(rng.choice(FAULTS))
            run += 1
        else:
            plan.append(Mode.FORWARD)
            run = 0
    return plan


async def test_lost_responses_and_resets_leave_exactly_one_copy(fault_hub: RunningHub) -> None:
    await world(fault_hub)
    rng = random.Random(1234)
    port = int(fault_hub.url.rsplit(":", 1)[1])
    sent = []
    for tag in range(figures.repeat(1, 5)):
        batch = await presealed(fault_hub, 16, tag)
        async with FaultProxy(port, _plan(rng, len(batch))) as proxy:
            async with HubClient(proxy.url, fault_hub.people[SENDERS[0]]) as client:
                answers = [await client.submit(item.raw) for item in batch]
            applied = Counter(proxy.applied)
        assert [a.mid for a in answers] == [o.mid for o in batch]
        assert applied[Mode.DROP_RESPONSE] > 0
        assert applied[Mode.RESET_REQUEST] > 0
        sent += batch
        result = await tally(fault_hub, must=sent, may=[])
        figures.record(
            f"lost responses / resets ({fault_hub.database_url.split('+')[0]})",
            acknowledged=len(batch),
            lost=result.lost,
            duplicated=result.duplicated,
            recovered=applied[Mode.DROP_RESPONSE] + applied[Mode.RESET_REQUEST],
        )
        assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
