"""``pgs send --attach`` sends the file's bytes, encrypted (it used to send only a description
and say "accepted"); ``pgs read --save-attachments`` gets them back verified. A file over the
hub's cap is refused before anything is uploaded."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pgs_hub.crypto.note import parse_verifier_key
from pgs_hub.protocols.evidence import verify_bundle
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, launched
from tests.e2e.messages import example
from tests.e2e.test_attachments import count_uploads

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    caps = "[attachments]\nmax_file_bytes = 300000\nmax_part_bytes = 131072\n"
    async with launched(tmp_path / "home", database_url, ncps=(NG, GH), config=caps) as running:
        yield running


async def pgs(hub: RunningHub, who: str, *args: str | Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", *map(str, args), "--hub", hub.url,
        "--keys", hub.home / "people" / who,
        "--authority", hub.home / "authority" / "authority.jwk.json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", "PGS_LANG": "en"},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_send_attach_then_read_save_attachments(hub: RunningHub, tmp_path: Path) -> None:
    message = tmp_path / "alert.json"
    message.write_text(json.dumps(example(MessageKind.ALERT).model_dump(mode="json")))
    # Over the hub's cap (read from OPTIONS): refused before anything is uploaded.
    big = tmp_path / "scan.pdf"
    big.write_bytes(os.urandom(300_001))
    code, out = await pgs(hub, NG, "send", message, "--kind", "alert", "--to", GH, "--attach", big)
    assert code == 1, out
    assert "scan.pdf is too large for this hub" in out
    assert "nothing was sent" in out
    assert await count_uploads(hub) == (0, 0)

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(os.urandom(200_000))
    code, out = await pgs(
        hub, NG, "send", message, "--kind", "alert", "--to", GH, "--attach", photo, "--json"
    )
    assert code == 0, out
    mid = json.loads(out.strip().splitlines()[-1])["mid"]
    uploads, parts = await count_uploads(hub)
    assert uploads == 1
    assert parts == 2  # 200 kB in parts of the hub's cap (128 KiB here, read from OPTIONS)

    saved = tmp_path / "saved"
    code, out = await pgs(hub, GH, "read", mid, "--save-attachments", saved)
    assert code == 0, out
    assert "saved photo.jpg" in out
    assert (saved / "photo.jpg").read_bytes() == photo.read_bytes()
    assert sorted(p.name for p in saved.iterdir()) == ["photo.jpg"]  # no temporary file left

    # Evidence: a recipient discloses the content key and adds the encrypted file; the offline
    # verifier checks the file against the hashes the signed content gives.
    bundle = tmp_path / "evidence.json"
    code, out = await pgs(
        hub, GH, "evidence", "get", mid, "-o", bundle, "--disclose-key", "--with-attachments"
    )
    assert code == 0, out
    assert "1 attachment file(s)" in out
    # Checked offline with the two pinned keys (what `pgs evidence verify` runs).
    config = tomllib.loads((hub.home / "config.toml").read_text())
    verifier = parse_verifier_key(config["log"]["verifier_key"])
    checked = verify_bundle(
        bundle.read_bytes(), authority=hub.authority.public, log_verifier=verifier
    )
    report = {"attachments": [vars(a) for a in checked.attachments]}
    # The example alert also describes a file whose bytes were never sent: reported, unchecked.
    described = {a["name"]: a for a in report["attachments"]}
    attachment = described.pop("photo.jpg")
    assert [a["content_verified"] for a in described.values()] == [False] * len(described)
    assert attachment["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert attachment["content_verified"] is True
