"""``pgs send --attach`` killed mid-upload is resumed by the next run of the same command, from
the hub's offset, not restarted: a real hub behind a throttled loopback link that counts the
request-body bytes crossing it; the first run is killed (SIGKILL) once the hub holds part of the
file; the second run sends the rest; at most 1.1 times the ciphertext crossed the link in all,
the hub holds one upload (not a second one begun from zero), the state the first run left in the
keys folder is gone, and the recipient saves a byte-identical file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from pgs_hub.hub.cli.upload_state import FOLDER
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import uploads
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, launched
from tests.e2e.messages import example
from tests.faults.slowlink import SlowLink

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
SIZE = 1_200_000
PART_CAP = 131_072  # the hub's max_part_bytes in this test
OTHER_BODIES = 16_384  # the envelope's POST and the small bodies: well under a part
RATE = 150_000  # bytes per second: the upload takes about 8 s, the kill comes well before
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def command(hub: RunningHub, url: str, who: str, *args: str | Path) -> list[str]:
    return [
        sys.executable, "-m", "pgs_hub", *map(str, args), "--hub", url,
        "--keys", str(hub.home / "people" / who),
        "--authority", str(hub.home / "authority" / "authority.jwk.json"),
    ]  # fmt: skip


async def run(argv: list[str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", "PGS_LANG": "en"},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def upload_rows(hub: RunningHub) -> list[tuple[str, int, int]]:
    """(id, stored, length) of every upload the hub holds: its offsets tell what arrived."""
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(uploads.c.id, uploads.c.stored, uploads.c.length))
            return [(r.id, int(r.stored), int(r.length)) for r in rows]
    finally:
        await engine.dispose()


async def test_a_killed_send_attach_resumes_from_the_hubs_offset(
    database_url: str, tmp_path: Path
) -> None:
    # Parts of 128 KiB (the hub's cap, read by the CLI from OPTIONS): a kill loses at most the
    # part in flight, so the bodies sent in all are the file's, that one part again, and the
    # envelope's own POST (about 6 KB) with the few small bodies of the two runs.
    part_cap = f"[attachments]\nmax_part_bytes = {PART_CAP}\n"
    async with launched(tmp_path / "home", database_url, ncps=(NG, GH), config=part_cap) as hub:
        message = tmp_path / "alert.json"
        message.write_text(json.dumps(example(MessageKind.ALERT).model_dump(mode="json")))
        photo = tmp_path / "seizure.jpg"
        photo.write_bytes(os.urandom(SIZE))
        port = urlsplit(hub.url).port
        assert port is not None
        async with SlowLink(port, rate=RATE, drop_every=1 << 40) as link:
            argv = command(hub, link.url, NG, "send", message, "--kind", "alert", "--to", GH,
                           "--attach", photo, "--json")  # fmt: skip
            first = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            deadline = time.monotonic() + 120
            while True:  # kill it once the hub holds a good part of the file, not all of it
                rows = await upload_rows(hub)
                if rows and rows[0][1] >= SIZE // 4:
                    break
                assert first.returncode is None, "the first run ended before it was killed"
                assert time.monotonic() < deadline, "the first run did not upload"
                await asyncio.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            ((upload_id, stored_at_kill, length),) = await upload_rows(hub)
            assert 0 < stored_at_kill < length
            states = list((hub.home / "people" / NG / FOLDER).glob("*.json"))
            assert len(states) == 1  # what the next run resumes from

            code, out = await run(argv)
            assert code == 0, out
            mid = json.loads(out.strip().splitlines()[-1])["mid"]
            ((same_id, stored, _),) = await upload_rows(hub)
            sent = link.upstream_body
        assert same_id == upload_id  # resumed: no second upload begun from zero
        assert stored == length
        assert sent <= length + PART_CAP + OTHER_BODIES, (sent, length, stored_at_kill)
        assert not states[0].exists()  # settled: nothing left to resume

        saved = tmp_path / "saved"
        code, out = await run(command(hub, hub.url, GH, "read", mid, "--save-attachments", saved))
        assert code == 0, out
        assert (saved / "seizure.jpg").read_bytes() == photo.read_bytes()
