"""kill -9 of the hub while a large concurrent burst is in its group-committed writer, on SQLite and
PostgreSQL. Hundreds of submissions are in flight, so the kill lands while batches are being
written and committed. After a restart on the same home and database, every envelope whose
acknowledgement reached its sender is in each recipient's inbox exactly once (an acknowledgement
is only sent after its batch committed), the others at most once and, once resubmitted, exactly
once; and the audit log still verifies with `pgs audit verify` (indexes gap-free, the root
recomputed from every entry matching the signed checkpoint)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import aiohttp

from tests.e2e.harness import RunningHub
from tests.e2e.test_audit_tools import verify
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

AUDITOR = "WCO-AUDIT"
BURST = 400
CONNECTIONS = 100
BURST_TIMEOUT = aiohttp.ClientTimeout(total=60)


async def _burst(hub: RunningHub, batch: list[Outgoing], kill_after: int) -> list[Outgoing]:
    """Send ``batch`` all at once; kill -9 the hub at the ``kill_after``-th acknowledgement."""
    acked: list[Outgoing] = []

    async def send(session: aiohttp.ClientSession, item: Outgoing) -> None:
        status, doc = await submit_once(session, hub.url, item, BURST_TIMEOUT)
        if acknowledged(status, doc, item):
            acked.append(item)
            if len(acked) == kill_after:
                kill(hub)  # at once, while hundreds of requests are in flight
        elif status is not None and status < 500:
            raise AssertionError(f"refused before the kill: {status} {doc}")

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(send(session, item) for item in batch))
    return acked


async def test_kill_9_during_a_burst_in_the_writer_loses_and_repeats_nothing(
    fault_hub: RunningHub, tmp_path: Path
) -> None:
    hub = fault_hub
    await world(hub)
    await hub.enrol(AUDITOR, "auditor")
    rng = random.Random(5)
    sent: list[Outgoing] = []
    for tag in range(figures.repeat(1, 5)):
        batch = await presealed(hub, BURST, tag)
        acked = await _burst(hub, batch, kill_after=rng.randint(BURST // 8, BURST // 3))
        assert hub.process.poll() is not None, "the hub was not killed"
        unacked = [o for o in batch if o not in acked]
        assert len(unacked) > CONNECTIONS // 2, "the kill came too late to catch a burst"

        await restart(hub)
        before = await tally(hub, must=sent + acked, may=unacked)
        async with hub.client(None) as anonymous:
            for item in unacked:
                await anonymous.submit(item.raw)  # idempotent: 200 if it was stored, 201 if not
        after = await tally(hub, must=sent + batch, may=[])
        figures.record(
            f"kill -9 during a burst ({hub.database_url.split('+')[0]})",
            acknowledged=len(acked),
            lost=before.lost + after.lost,
            duplicated=before.duplicated + after.duplicated,
            recovered=len(unacked),
        )
        assert (before.lost, before.duplicated, before.unexpected) == (0, 0, 0), before
        assert (after.lost, after.duplicated, after.unexpected) == (0, 0, 0), after
        sent += batch

        checked = await verify(hub, AUDITOR, tmp_path / "auditor-state.json")
        assert checked.code == 0, checked.line()
