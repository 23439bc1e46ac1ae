"""Disk full under SQLite (the database on a small tmpfs): submissions are refused with a clear
problem (507 storage.full or 503, with Retry-After; never a 500, never a crash), nothing is
acknowledged that was not stored, the database passes ``PRAGMA integrity_check``, and everything
works again once space is freed. Linux only; the test mounts a tmpfs, so it needs root."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub.client import HubClient
from tests.faults import figures
from tests.faults.hubproc import (
    Outgoing,
    acknowledged,
    launch,
    presealed,
    restart,
    submit_once,
    tally,
    world,
)

DISK = "4m"
MAX_TRIES = 200


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    mount = subprocess.run(  # noqa: S603 - fixed arguments
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(folder)],  # noqa: S607
        capture_output=True, check=False, timeout=30,
    )  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)  # noqa: S603, S607


def fill(folder: Path) -> Path:
    """Write a file until the disk is full, in smaller and smaller pieces."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as sink:
        for size in (256 * 1024, 16 * 1024, 1024, 64):
            while True:
                try:
                    sink.write(b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return filler


async def test_disk_full_under_sqlite_is_a_clear_refusal_then_recovers(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        database = disk / "hub.db"
        hub = await launch(tmp_path / "home", f"sqlite+aiosqlite:///{database}")
        try:
            await world(hub)
            batch = await presealed(hub, MAX_TRIES)
            acked: list[Outgoing] = []
            refused: list[Outgoing] = []
            async with aiohttp.ClientSession() as session:
                for item in batch[:3]:
                    assert acknowledged(*await submit_once(session, hub.url, item), item)
                    acked.append(item)
                filler = fill(disk)
                for item in batch[3:]:
                    async with session.post(
                        f"{hub.url}/v1/envelopes", data=item.raw,
                        headers={"Content-Type": "application/jose+json"},
                    ) as resp:  # fmt: skip
                        doc = await resp.json(content_type=None)
                        if resp.status in (200, 201):
                            acked.append(item)
                            continue
                        assert resp.status in (503, 507), (resp.status, doc)
                        assert resp.content_type == "application/problem+json"
                        assert int(resp.headers["Retry-After"]) > 0
                        assert doc["code"] in ("storage.full", "database.unavailable"), doc
                        refused.append(item)
                        if len(refused) == 3:
                            break
                assert refused, f"{MAX_TRIES} envelopes fitted on a full {DISK} disk"
                assert hub.process.poll() is None, "the hub crashed on a full disk"
                # Alive, but not ready while full (issue 12: /v1/health said "database ok").
                async with session.get(f"{hub.url}/v1/health/live") as resp:
                    assert resp.status == 200
                async with session.get(f"{hub.url}/v1/health/ready") as resp:
                    ready = await resp.json()
                    assert resp.status == 503, ready
                    assert ready["database"] in ("full", "a write failed recently"), ready
                filler.unlink()
            async with HubClient(hub.url, None) as anonymous:
                for item in refused:
                    await anonymous.submit(item.raw)
            assert hub.stop() == 0
            with contextlib.closing(sqlite3.connect(database)) as db:
                assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            await restart(hub)
            result = await tally(hub, must=acked + refused, may=[])
            figures.record(
                "disk full under SQLite",
                acknowledged=len(acked), lost=result.lost, duplicated=result.duplicated,
                recovered=len(refused),
            )  # fmt: skip
            assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result
        finally:
            if hub.process.poll() is None:
                assert hub.stop() == 0
        log = hub.log.read_text(errors="replace")
        assert "Traceback" not in log, log
