"""An attachment over a degraded link: throttled to 256 kbit/s and cut every 2 MB.

Under ``PGS_SOAK=1`` (``make soak``) this is the full case: a 20 MiB file, 256 kbit/s each way,
the connection reset each time 2 MiB more have crossed the link (both directions together), the
upload sent in 128 KiB PATCH parts. That takes about 11 minutes each way, far too long for the
normal suite, which runs the same test scaled by 1/64: a 320 KiB file, a reset every 32 KiB, parts
of 2 KiB; and, so that it takes seconds, a link 8 times faster (2 Mbit/s) and a policy rate limit
raised to let its 160 parts through in a few seconds (the full case sends about 15 a minute). The
assertions are the same in both:

* the file arrives byte-identical (the recipient downloads through the same link, resuming with
  Range, and decrypts);
* the link really dropped, several times, during the upload and during the download;
* the upload resumed, never restarted: after every drop the client asked the hub for its offset
  and went on from there (never from 0 once bytes were stored), and the request-body bytes that
  crossed the link towards the hub (counted by the link itself, including every part that was cut
  off) are at most 1.1 times the ciphertext size. Request heads are left out of that count: at
  128 KiB per part they are about 1 % of the bytes (the soak run asserts the link's whole upstream
  count as well), at 2 KiB per part they are most of them (the scaled run only reports them).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pgs_hub.hub.client import HubClient
from pgs_hub.hub.client.attachments import (
    TransferStats,
    download_attachment,
    encrypt_file,
    upload_file,
)
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from tests.e2e.harness import RunningHub, launch, raise_rate_limits
from tests.e2e.messages import example
from tests.faults import figures
from tests.faults.slowlink import SlowLink

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
FULL = 20 * 1024 * 1024
SCALE = 1 if figures.SOAK else 64
SIZE = FULL // SCALE
DROP_EVERY = 2 * 1024 * 1024 // SCALE
PART = 128 * 1024 // SCALE
RATE = 256_000 / 8 * (1 if figures.SOAK else 8)  # bytes per second, each way

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.timeout(3600 if figures.SOAK else 300),
]


def through(hub: RunningHub, link: SlowLink, who: str) -> HubClient:
    """A client of ``who`` that reaches the hub over the degraded link."""
    return HubClient(link.url, hub.people[who], authority=hub.authority.public, timeout=60)


async def test_a_large_attachment_over_a_dropping_256_kbit_link_arrives_resumed(
    database_url: str, tmp_path: Path
) -> None:
    hub = await launch(
        tmp_path / "home", database_url, config=f"[attachments]\nmax_part_bytes = {max(PART, 1024)}"
    )
    try:
        for pid in (NG, GH):
            await hub.enrol(pid, "ncp")
        if not figures.SOAK:
            await raise_rate_limits(hub)
        original = tmp_path / "container-scan.tiff"
        original.write_bytes(os.urandom(SIZE))
        encrypted = encrypt_file(original, tmp_path)
        port = urlsplit(hub.url).port
        assert port is not None

        # Upload over the link.
        async with SlowLink(port, rate=RATE, drop_every=DROP_EVERY) as link:
            stats = TransferStats()
            async with through(hub, link, NG) as ng:
                upload = await upload_file(ng, encrypted, part_size=PART, stats=stats)
            upload_drops, upstream, body = link.drops, link.upstream, link.upstream_body
        # Sending the (small) message itself needs no degraded link.
        async with hub.client(NG) as ng:
            doc = example(MessageKind.ALERT).model_dump(mode="json", exclude_none=True)
            doc["attachments"] = [encrypted.description(upload)]
            content = parse_message(MessageKind.ALERT, doc)
            sealed, _ = await ng.send(
                kind=MessageKind.ALERT, content=content, to=[GH], attachments=[upload]
            )

        # The recipient reads the message, then downloads the file over the link.
        async with hub.client(GH) as gh:
            opened = await gh.read(sealed.header.mid)
        attachment = opened.content.attachments[-1]  # type: ignore[attr-defined]
        async with SlowLink(port, rate=RATE, drop_every=DROP_EVERY) as link:
            got = TransferStats()
            async with through(hub, link, GH) as gh:
                saved = await download_attachment(gh, attachment, tmp_path / "in", stats=got)
            download_drops = link.drops
    finally:
        assert hub.stop() == 0, hub.log.read_text()

    size = encrypted.ciphertext_size
    # Cut requests and responses are the link's doing, not the hub's: no error, no outage logged.
    log = hub.log.read_text()
    assert "unexpected error" not in log
    assert "database unavailable" not in log
    assert (
        hashlib.sha256(saved.read_bytes()).digest()
        == hashlib.sha256(original.read_bytes()).digest()
    )
    assert upload_drops >= 5, upload_drops
    assert stats.interruptions >= 5, stats
    assert download_drops >= 5, download_drops
    assert got.interruptions >= 5, got
    # Resumed, not restarted: every resumption went on from what the hub held.
    assert stats.resumed_from is not None
    assert all(offset > 0 for offset in stats.resumed_from[1:]), stats.resumed_from
    assert stats.resumed_from == sorted(stats.resumed_from)
    assert got.resumed_from is not None
    assert got.resumed_from == sorted(got.resumed_from)
    assert size <= body <= 1.1 * size, (body, size)
    if figures.SOAK:
        assert upstream <= 1.1 * size, (upstream, size)
    print(
        f"\n{size} bytes over {RATE * 8 / 1000:.0f} kbit/s, reset every {DROP_EVERY} bytes: "
        f"upload {upload_drops} drops, {body} body bytes ({body / size:.3f}x; the client sent "
        f"{stats.body_bytes / size:.3f}x counting whole parts), {upstream} bytes upstream "
        f"({upstream / size:.3f}x); "
        f"download {download_drops} drops"
    )
