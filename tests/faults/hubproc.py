"""A real hub process that the fault tests may kill, stop, freeze and restart on the same home and
database, plus the helpers every fault test needs: pre-sealed envelopes, raw submission (one try,
no retry, so the test decides what an acknowledgement is) and a full read of each inbox."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from pgs_hub.hub.client import HubClient
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e import harness
from tests.e2e.harness import RunningHub, start_hub, wait_healthy
from tests.e2e.messages import example

JOSE = "application/jose+json"
SENDERS = ("NG-NCP-LAGOS", "CM-NCP-DOUALA", "FR-NCP-PARIS")
READERS = ("GH-NCP-ACCRA", "WCO-PGS-BRUSSELS")
SUBMIT_TIMEOUT = aiohttp.ClientTimeout(total=10)


async def launch(home: Path, database_url: str) -> RunningHub:
    """Make a home like ``pgs init``, migrate, bootstrap the admin and start ``pgs serve``; the
    submission limit is lifted (bursts of hundreds from three senders test faults, not limits)."""
    return await harness.launch(
        home, database_url, config="[limits]\nsubmissions_per_minute = 1000000\n"
    )


def kill(hub: RunningHub) -> None:
    """SIGKILL: no shutdown code runs, exactly like a power cut of the process."""
    if hub.process.poll() is None:
        os.kill(hub.process.pid, signal.SIGKILL)
    hub.process.wait(timeout=10)


async def restart(hub: RunningHub) -> None:
    """Start the hub again on the same home, database and port."""
    assert hub.process.poll() is not None, "stop the hub before restarting it"
    port = int(hub.url.rsplit(":", 1)[1])
    hub.process = await start_hub(hub.home, hub.database_url, port)
    await wait_healthy(hub.url, hub.process, hub.log)


async def world(hub: RunningHub) -> None:
    for pid in SENDERS:
        await hub.enrol(pid, "ncp")
    await hub.enrol(READERS[0], "ncp")
    await hub.enrol(READERS[1], "wco")


@dataclass(frozen=True)
class Outgoing:
    mid: str
    raw: bytes
    recipients: tuple[str, ...]


async def presealed(hub: RunningHub, count: int, tag: int = 0) -> list[Outgoing]:
    """``count`` alerts, round-robin over the senders, each to one or both readers."""
    async with hub.client(SENDERS[0]) as client:
        keys = {pid: await client.recipient_key(pid) for pid in READERS}
    out = []
    now = int(time.time())
    for n in range(count):
        sender = SENDERS[n % len(SENDERS)]
        to = READERS if (n + tag) % 3 else READERS[:1]
        sealed = seal_message(
            sender_id=sender, signer=hub.people[sender].signing,
            recipients=[(pid, keys[pid]) for pid in to], kind=MessageKind.ALERT,
            content=example(MessageKind.ALERT), tlp=Tlp.AMBER, now=now,
        )  # fmt: skip
        out.append(Outgoing(sealed.header.mid, sealed.raw, to))
    return out


async def submit_once(
    session: aiohttp.ClientSession,
    url: str,
    item: Outgoing,
    timeout: aiohttp.ClientTimeout = SUBMIT_TIMEOUT,
) -> tuple[int | None, dict[str, object] | None]:
    """One POST, no retry: (status, body), or (None, None) when no answer came back."""
    try:
        async with session.post(
            f"{url}/v1/envelopes", data=item.raw, headers={"Content-Type": JOSE},
            timeout=timeout,
        ) as resp:  # fmt: skip
            body = await resp.read()
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            return resp.status, doc if isinstance(doc, dict) else None
    except (aiohttp.ClientError, TimeoutError):
        return None, None


def acknowledged(status: int | None, doc: dict[str, object] | None, item: Outgoing) -> bool:
    return status in (200, 201) and doc is not None and doc.get("mid") == item.mid


async def inbox_mids(client: HubClient) -> list[str]:
    """Every envelope id in a reader's mailbox, in mailbox order (receipts left out)."""
    mids: list[str] = []
    after = 0
    while True:
        page = await client.inbox(after=after, limit=200)
        mids += [i.mid for i in page.items if i.type == "envelope"]
        if not page.items:
            return mids
        after = int(page.next)


@dataclass
class Tally:
    lost: int = 0  # acknowledged, not in a recipient's inbox
    duplicated: int = 0  # in a recipient's inbox more than once
    unexpected: int = 0  # in an inbox it was not addressed to


async def tally(hub: RunningHub, must: list[Outgoing], may: list[Outgoing]) -> Tally:
    """Check each reader's inbox: ``must`` present exactly once, ``may`` at most once."""
    result = Tally()
    addressed = {o.mid: o.recipients for o in must + may}
    for reader in READERS:
        async with hub.client(reader) as client:
            seen = Counter(await inbox_mids(client))
        result.duplicated += sum(1 for n in seen.values() if n > 1)
        result.unexpected += sum(1 for mid in seen if reader not in addressed.get(mid, (reader,)))
        result.lost += sum(1 for o in must if reader in o.recipients and seen[o.mid] == 0)
    return result
