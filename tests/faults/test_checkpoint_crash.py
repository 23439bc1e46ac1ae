"""The serving hub's WAL checkpoints run in the background (hub.storage.checkpoint), against a
real ``pgs serve`` on SQLite: the database file receives the accepted envelopes without anyone
else opening it, the counts are in /metrics, and a hub killed with SIGKILL around its
checkpoints (at seeded random moments after the last part of an upload was acknowledged: before,
during or after the checkpoint that copies its rows; its bytes are files, fsynced before) loses
none of the acknowledged bytes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub.client.attachments import encrypt_file, upload_file
from pgs_hub.hub.storage import blobs
from pgs_hub.hub.storage.engine import create_engine
from tests.e2e.harness import RunningHub
from tests.faults.hubproc import (
    SENDERS,
    acknowledged,
    kill,
    presealed,
    restart,
    submit_once,
    world,
)

MIB = 1024 * 1024
PART = 4 * MIB  # parts of this size each (the hub's max_part_bytes is larger)
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def _gauge(hub: RunningHub, name: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(f"{hub.url}/metrics") as resp:
        assert resp.status == 200
        found = re.search(rf"^{name} (\S+)$", await resp.text(), re.M)
    assert found is not None, f"{name} is not in /metrics"
    return float(found.group(1))


async def _stored(hub: RunningHub, upload: str) -> bytes:
    """The upload's bytes as the hub's storage holds them (its rows, and the part files they
    name), read by another process, as the hub's next start would read them."""
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            found = await blobs.upload(conn, upload)
        if found is None:
            return b""
        return b"".join([piece async for piece in blobs.read(engine, upload, 0, found.stored)])
    finally:
        await engine.dispose()


async def test_the_hub_copies_its_wal_into_the_database_in_the_background(
    fault_hub: RunningHub,
) -> None:
    await world(fault_hub)
    db = Path(fault_hub.database_url.split("///", 1)[1])
    batch = await presealed(fault_hub, 300)
    before = _size(db)
    async with aiohttp.ClientSession() as session:
        for item in batch:
            assert acknowledged(*await submit_once(session, fault_hub.url, item), item)
    stored = sum(len(item.raw) for item in batch)
    # Nobody but the hub has the file open: only its checkpointer can have grown it.
    for _ in range(600):
        if _size(db) >= before + stored:
            break
        await asyncio.sleep(0.05)
    assert _size(db) >= before + stored
    assert await _gauge(fault_hub, "pgs_sqlite_wal_checkpoints") >= 1
    assert await _gauge(fault_hub, "pgs_sqlite_wal_checkpoint_failures") == 0
    assert fault_hub.stop() == 0
    # A clean stop ends with a TRUNCATE checkpoint: the database file holds everything.
    assert _size(db.with_name(db.name + "-wal")) == 0


async def test_kill_9_around_a_checkpoint_loses_no_acknowledged_part(
    fault_hub: RunningHub, tmp_path: Path
) -> None:
    await world(fault_hub)
    rng = random.Random(17)
    kept: dict[str, bytes] = {}
    for round_ in range(3):
        original = tmp_path / f"file-{round_}.bin"
        original.write_bytes(os.urandom(2 * PART + rng.randrange(PART)))
        encrypted = await asyncio.to_thread(encrypt_file, original, tmp_path)
        async with fault_hub.client(SENDERS[0]) as client:
            upload = await upload_file(client, encrypted, part_size=PART)
        # The checkpointer copies a burst about 0.25 s after its last commit.
        await asyncio.sleep(rng.uniform(0.0, 0.6))
        kill(fault_hub)
        kept[upload] = encrypted.ciphertext.read_bytes()
        await restart(fault_hub)
        async with fault_hub.client(SENDERS[0]) as client:
            for known, data in kept.items():
                assert await client.upload_offset(known) == len(data)
        for known, data in kept.items():
            stored = await _stored(fault_hub, known)
            assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()
