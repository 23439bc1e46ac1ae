"""Part 5b: attachment upload throughput, the hub's tus upload against a bare aiohttp streaming
upload of the same bytes, in the same run (issue 17: hub >= 0.5 x bare).

The file is encrypted as ``pgs send --attach`` encrypts it (``encrypt_file``, not timed); the hub
gets it through ``upload_file`` with the part sizes the CLI uses (``hub.client.attachments
.part_size`` first, growing up to the hub's ``max_part_bytes``; the counted uploads follow a
warm-up on the same client, and so start at the size it reached), each PATCH signed, checksummed
and committed; the baseline gets the same ciphertext as one streamed request body, in pieces of
the first part's size, which its handler writes to a
file as they arrive (``bench/baseline.py``). The two alternate, round by round, so that other
work on the machine touches both alike; the figure is the median MB/s of each. Where the hub
offers two parts in flight, each round also uploads once more one part at a time (plain tus),
which shows what the window gains in the same run, and the bare handler once more with an fsync
before its answer (the hub answers a part only once it is durable; the bare handler's file is
removed before the kernel need write it at all), which shows what the disk costs.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bench.report import median_max
from pgs_hub.hub.client import HubClient
from pgs_hub.hub.client.attachments import (
    EncryptedFile,
    TransferStats,
    encrypt_file,
    part_size,
    upload_file,
)
from pgs_hub.hub.keystore import LocalParticipant
from pgs_hub.protocols.api import UploadLimits

MB = 1_000_000


def plain_file(folder: Path, size: int) -> Path:
    """``size`` random bytes (incompressible, as ciphertext is) in ``folder``."""
    path = folder / "attachment.bin"
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, 1 << 20))
            out.write(piece)
            left -= len(piece)
    return path


async def _pieces(path: Path, size: int) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while piece := await asyncio.to_thread(source.read, size):
            yield piece


async def bare_upload(
    session: aiohttp.ClientSession,
    url: str,
    item: EncryptedFile,
    part: int,
    *,
    durable: bool = False,
) -> float:
    """One streamed PUT of the ciphertext to the bare handler (``durable``: fsynced before it
    answers); seconds taken."""
    started = time.perf_counter()
    target = f"{url}/upload" + ("?durable=1" if durable else "")
    async with session.put(target, data=_pieces(item.ciphertext, part)) as resp:
        answer = await resp.json()
    seconds = time.perf_counter() - started
    if resp.status != 201 or answer.get("received") != item.ciphertext_size:
        raise RuntimeError(f"the bare upload failed: {resp.status} {answer}")
    return seconds


async def hub_upload(
    client: HubClient,
    item: EncryptedFile,
    limits: UploadLimits,
    stats: TransferStats,
    *,
    in_flight: int | None = None,
) -> float:
    """One tus upload of the ciphertext to the hub, as the client makes it (parts in flight as
    the hub offers, unless ``in_flight`` says); seconds taken."""
    started = time.perf_counter()
    upload_id = await upload_file(
        client, item, part_size=part_size(limits), max_part_size=limits.max_part_bytes,
        parts_in_flight=limits.parts_in_flight if in_flight is None else in_flight, stats=stats,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if await client.upload_offset(upload_id) != item.ciphertext_size:
        raise RuntimeError("the hub does not hold the whole upload")
    await client.delete_upload(upload_id)  # not timed: keeps the sender's quota free
    return seconds


async def bench_upload(
    folder: Path,
    *,
    hub_url: str,
    baseline_url: str,
    uploader: LocalParticipant,
    authority: Any,
    megabytes: int,
    rounds: int,
    cpu: Any,
) -> dict[str, Any]:
    """The figures of part 5b (``cpu``: the hub process's CPU seconds so far, a callable)."""
    folder.mkdir()
    source = await asyncio.to_thread(plain_file, folder, megabytes * MB)
    item = await asyncio.to_thread(encrypt_file, source, folder)
    size = item.ciphertext_size
    hub_rates: list[float] = []
    one_at_a_time: list[float] = []  # the hub, the client sending one part at a time (tus)
    durable_rates: list[float] = []  # the bare handler, fsyncing the file before it answers
    bare_rates: list[float] = []
    hub_cpu = 0.0
    stats = TransferStats()
    async with (
        HubClient(hub_url, uploader, authority=authority, timeout=120) as client,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session,
    ):
        limits = await client.upload_limits()
        part, largest = part_size(limits), limits.max_part_bytes
        await hub_upload(client, item, limits, TransferStats())  # warm-up, not counted
        first = min(largest, max(part, client.part_size_reached))
        await bare_upload(session, baseline_url, item, part)
        for _ in range(rounds):
            bare_rates.append(size / MB / await bare_upload(session, baseline_url, item, part))
            before = cpu()
            stats = TransferStats()
            hub_rates.append(size / MB / await hub_upload(client, item, limits, stats))
            hub_cpu += cpu() - before
            if limits.parts_in_flight > 1:
                seconds = await hub_upload(client, item, limits, TransferStats(), in_flight=1)
                one_at_a_time.append(size / MB / seconds)
            seconds = await bare_upload(session, baseline_url, item, part, durable=True)
            durable_rates.append(size / MB / seconds)
    return {
        "ciphertext_bytes": size,
        "part_bytes": part,
        # the counted uploads follow the warm-up on the same client, so they start at the part
        # size it reached (hub.client: HubClient.part_size_reached), not at part_bytes
        "first_part_bytes": first,
        "max_part_bytes": largest,
        "parts_in_flight": limits.parts_in_flight,
        "patches_per_upload": stats.parts,
        "rounds": rounds,
        "hub_mb_per_s": median_max(hub_rates),
        "baseline_mb_per_s": median_max(bare_rates),
        "hub_over_baseline": statistics.median(hub_rates) / statistics.median(bare_rates),
        "hub_cpu_seconds_per_upload": hub_cpu / rounds,
        # the same hub and client, one PATCH at a time, in the same rounds (what the window of
        # two parts in flight is measured against)
        "hub_one_part_at_a_time_mb_per_s": median_max(one_at_a_time) if one_at_a_time else None,
        # the bare handler with an fsync before its answer: what durability costs on this disk
        # (information, not the target's baseline)
        "baseline_durable_mb_per_s": median_max(durable_rates),
    }
