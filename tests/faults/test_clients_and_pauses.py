"""Faults at the edges: a recipient process killed while it streams its mailbox (then a slow
consumer resumes from its last cursor), the hub frozen with SIGSTOP and thawed with SIGCONT, and a
client whose clock is off by more than the signature window."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub.auth.httpsig import WINDOW_SECONDS
from pgs_hub.hub.client import HubClient, HubClientError
from tests.e2e.harness import RunningHub
from tests.faults import figures
from tests.faults.hubproc import (
    READERS,
    SENDERS,
    Outgoing,
    acknowledged,
    presealed,
    submit_once,
    tally,
    world,
)

RECIPIENT = READERS[0]
# The dying recipient: prints each mailbox item it has processed, one JSON line, then waits.
RECIPIENT_PROGRAM = """
import asyncio, json, sys
from pathlib import Path
from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClient

async def main():
    me = keystore.load(Path(sys.argv[2]), None)
    async with HubClient(sys.argv[1], me) as hub:
        async for item in hub.stream(int(sys.argv[3]), reconnect=False):
            print(json.dumps({"cursor": item.cursor, "mid": item.mid}), flush=True)

asyncio.run(main())
"""


async def _stream_in_a_process(hub: RunningHub, after: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", RECIPIENT_PROGRAM, hub.url, str(hub.home / "people" / RECIPIENT),
        str(after), stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[2],
    )  # fmt: skip


async def test_recipient_killed_mid_stream_resumes_without_loss_or_repeat(
    fault_hub: RunningHub,
) -> None:
    await world(fault_hub)
    for run in range(figures.repeat(1, 5)):
        batch = [o for o in await presealed(fault_hub, 24, run) if RECIPIENT in o.recipients]
        processed: list[tuple[int, str]] = []
        async with HubClient(fault_hub.url, None) as anonymous:
            cursor = 0
            if run:  # later runs start after what earlier runs saw (read before this run sends)
                async with fault_hub.client(RECIPIENT) as me:
                    cursor = int((await me.inbox(after=0, limit=500)).next)
            for item in batch[:6]:
                await anonymous.submit(item.raw)
            recipient = await _stream_in_a_process(fault_hub, cursor)
            assert recipient.stdout is not None
            try:
                for _ in range(4):
                    line = await asyncio.wait_for(recipient.stdout.readline(), 15)
                    item = json.loads(line)
                    processed.append((item["cursor"], item["mid"]))
            finally:
                os.kill(recipient.pid, signal.SIGKILL)  # dies without acknowledging anything
                await recipient.wait()

            async def keep_sending(rest: list[Outgoing]) -> None:
                for item in rest:
                    await anonymous.submit(item.raw)

            sending = asyncio.create_task(keep_sending(batch[6:]))
            async with fault_hub.client(RECIPIENT) as me:
                stream = me.stream(processed[-1][0], reconnect=False)
                async for pushed in stream:
                    processed.append((pushed.cursor, pushed.mid))
                    await asyncio.sleep(0.02)  # a slow consumer
                    if len(processed) == len(batch):
                        break
                await stream.aclose()
            await sending
        mids = [mid for _, mid in processed]
        cursors = [c for c, _ in processed]
        lost = len({o.mid for o in batch} - set(mids))
        repeated = len(mids) - len(set(mids))
        figures.record(
            "recipient killed mid-stream, slow resume",
            acknowledged=len(batch), lost=lost, duplicated=repeated, recovered=len(batch) - 4,
        )  # fmt: skip
        assert mids == [o.mid for o in batch]
        assert cursors == sorted(set(cursors))


async def test_sigstop_sigcont_requests_wait_or_time_out_then_succeed(
    fault_hub: RunningHub,
) -> None:
    await world(fault_hub)
    sent = []
    for run in range(figures.repeat(1, 5)):
        batch = await presealed(fault_hub, 10, run)
        short = aiohttp.ClientTimeout(total=1.0)
        patient = aiohttp.ClientTimeout(total=20.0)
        async with aiohttp.ClientSession() as session:
            for item in batch[:3]:
                assert acknowledged(*await submit_once(session, fault_hub.url, item), item)
            os.kill(fault_hub.process.pid, signal.SIGSTOP)
            try:
                waiting = asyncio.create_task(
                    submit_once(session, fault_hub.url, batch[3], patient)
                )
                timed_out = await asyncio.gather(
                    *(submit_once(session, fault_hub.url, o, short) for o in batch[4:])
                )
                assert all(status is None for status, _ in timed_out), timed_out
                assert not waiting.done()
            finally:
                os.kill(fault_hub.process.pid, signal.SIGCONT)
            assert acknowledged(*await waiting, batch[3])
        async with HubClient(fault_hub.url, None) as anonymous:
            for item in batch[4:]:
                await anonymous.submit(item.raw)  # 200 if the frozen hub got it after all
        sent += batch
        result = await tally(fault_hub, must=sent, may=[])
        figures.record(
            "SIGSTOP / SIGCONT of the hub",
            acknowledged=4, lost=result.lost, duplicated=result.duplicated,
            recovered=len(batch) - 4,
        )  # fmt: skip
        assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result


SKEWS = (-(WINDOW_SECONDS + 60), WINDOW_SECONDS + 60, -86400, 86400)


async def test_clock_skew_beyond_the_window_is_401_expired(fault_hub: RunningHub) -> None:
    await fault_hub.enrol(SENDERS[0], "ncp")
    me = fault_hub.people[SENDERS[0]]
    for skew in SKEWS:
        async with HubClient(fault_hub.url, me, clock=lambda s=skew: time.time() + s) as skewed:
            for call in (skewed.inbox, skewed.directory):
                with pytest.raises(HubClientError) as caught:
                    await call()
                assert caught.value.status == 401
                assert caught.value.code == "auth.expired"
        inside = (WINDOW_SECONDS - 60) * (1 if skew > 0 else -1)
        async with HubClient(fault_hub.url, me, clock=lambda s=inside: time.time() + s) as fine:
            await fine.inbox()  # a skew inside the window is accepted
        figures.record("client clock skew beyond the window", acknowledged=0)
