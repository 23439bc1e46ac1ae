"""Two parts of one upload in flight at once (hub.services.upload_window), against a real
``pgs serve``: a PATCH at the offset where the part still in flight will end is received
meanwhile and recorded after it, never before, and not at all if that part is not stored; one
follower per part, the owner's only; the client keeps two in flight where the hub offers it, and
falls back to one at a time where a hub refuses the second.

PATCHes are driven by hand on raw connections here where the test must hold one open mid-body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from pgs_hub.hub.auth.httpsig import sign_request
from pgs_hub.hub.client import HubClient, HubClientError
from pgs_hub.hub.client.attachments import TransferStats, encrypt_file, part_size, upload_file
from pgs_hub.hub.storage.part_files import folder_for
from tests.e2e.harness import RunningHub, launched
from tests.e2e.stored_parts import stored_parts
from tests.faults.slowlink import SlowLink

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
P = 65_536  # this hub's max_part_bytes: every part here is one of these
CAPS = f"[attachments]\nmax_part_bytes = {P}\n"
MISSING = "AAAAAAAAAAAAAAAAAAAAAA"
WAIT = 30.0  # a failure detector, not a measurement
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with launched(tmp_path / "home", database_url, ncps=(NG, GH), config=CAPS) as running:
        yield running


class HeldPatch:
    """A signed PATCH on a connection of its own: its head and the first ``sent`` bytes of its
    body go at once, the rest when the test says (:meth:`finish`), or never (:meth:`cut`)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rest: bytes):
        self.reader, self.writer, self.rest = reader, writer, rest

    @classmethod
    async def start(
        cls, hub: RunningHub, who: str, upload: str, offset: int, body: bytes, *, sent: int
    ) -> HeldPatch:
        path = f"/v1/uploads/{upload}"
        fields = {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }
        fields |= sign_request(
            method="PATCH", url=hub.url + path, headers=fields, body=body,
            key=hub.people[who].signing, now=int(time.time()),
        )  # fmt: skip
        host, port = hub.url.removeprefix("http://").split(":")
        head = f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(head.encode() + body[:sent])
        await writer.drain()
        return cls(reader, writer, body[sent:])

    async def finish(self) -> tuple[int, str, str]:
        """Send the rest of the body; the answer."""
        self.writer.write(self.rest)
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
        return await self.answer()

    async def answer(self) -> tuple[int, str, str]:
        """The status, the problem's code and Upload-Offset of the answer."""
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), WAIT)
            lines = head.decode("latin-1").split("\r\n")
            fields = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
            }
            length = int(fields.get("content-length", "0"))
            body = await asyncio.wait_for(self.reader.readexactly(length), WAIT)
        finally:
            self.writer.close()
        code = json.loads(body).get("code", "") if length else ""
        return int(lines[0].split(" ", 2)[1]), code, fields.get("upload-offset", "")

    def cut(self) -> None:
        """The link drops mid-body."""
        self.writer.transport.abort()


async def parts_of(hub: RunningHub, upload: str) -> list[tuple[int, bytes]]:
    """The stored parts of ``upload`` in order: (position, bytes)."""
    return [(part.position, part.content) for part in await stored_parts(hub, upload)]


def part_files(hub: RunningHub, upload: str) -> list[str]:
    """The names of the part files of ``upload`` beside the SQLite database, whatever names them."""
    database = make_url(hub.database_url).database
    assert database is not None
    folder = folder_for(Path(database)) / upload
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def received_whole(hub: RunningHub, upload: str, offset: int) -> None:
    """Until the part at ``offset`` was received whole and made durable (its file exists; the
    hub then only waits to record it)."""
    deadline = time.monotonic() + WAIT
    while not any(name.startswith(f"{offset}-") for name in part_files(hub, upload)):
        assert time.monotonic() < deadline, "the part after the one in flight was not received"
        await asyncio.sleep(0.02)


async def followed(hub: RunningHub) -> dict[str, int]:
    """``pgs_upload_parts_followed_total`` by outcome, from /metrics."""
    async with aiohttp.ClientSession() as session, session.get(f"{hub.url}/metrics") as resp:
        text = await resp.text()
    found = re.findall(r'^pgs_upload_parts_followed_total\{outcome="(\w+)"\} (\S+)$', text, re.M)
    return {outcome: int(float(value)) for outcome, value in found}


# SQLite only: there the follower's file shows it was received while the part before it was
# held, so it is certain to be taken as a follower. On PostgreSQL nothing shows that from outside,
# and the part before it could be stored first; a follower's storage on both databases is
# tests/storage/test_storage_part_receiver.py.
@on_sqlite
async def test_a_part_sent_while_the_one_before_is_in_flight_is_recorded_after_it(
    hub: RunningHub,
) -> None:
    async with hub.client(NG) as ng:
        assert (await ng.upload_limits()).parts_in_flight == 2
        upload = await ng.create_upload(2 * P + 1000)
        first, second, third = os.urandom(P), os.urandom(P), os.urandom(1000)
        held = await HeldPatch.start(hub, NG, upload, 0, first, sent=P // 2)
        # The next part, at the offset where the one in flight will end: taken, not refused.
        after = asyncio.ensure_future(ng.upload_part(upload, P, second))
        await received_whole(hub, upload, P)
        # Received and durable, yet not recorded: the hub holds nothing past 0 so far.
        assert not after.done()
        assert await ng.upload_offset(upload) == 0
        assert await held.finish() == (204, "", str(P))
        assert await asyncio.wait_for(after, WAIT) == 2 * P
        assert await ng.upload_part(upload, 2 * P, third) == 2 * P + 1000
    assert await parts_of(hub, upload) == [(0, first), (P, second), (2 * P, third)]
    assert await followed(hub) == {"stored": 1}


@on_sqlite
async def test_a_part_that_follows_one_cut_off_is_not_stored(hub: RunningHub) -> None:
    async with hub.client(NG) as ng:
        upload = await ng.create_upload(2 * P)
        first, second = os.urandom(P), os.urandom(P)
        held = await HeldPatch.start(hub, NG, upload, 0, first, sent=P // 2)
        after = asyncio.ensure_future(ng.upload_part(upload, P, second))
        await received_whole(hub, upload, P)
        held.cut()
        with pytest.raises(HubClientError) as refused:
            await asyncio.wait_for(after, WAIT)
        assert (refused.value.status, refused.value.code) == (409, "upload.offset_mismatch")
        # Nothing of either is kept: no row, and the second part's file is gone too.
        assert await ng.upload_offset(upload) == 0
        assert await parts_of(hub, upload) == []
        assert part_files(hub, upload) == []
        assert await followed(hub) == {"not_stored": 1}
        # The client resumes from the offset HEAD gives.
        assert await ng.upload_part(upload, 0, first) == P
        assert await ng.upload_part(upload, P, second) == 2 * P
    assert await parts_of(hub, upload) == [(0, first), (P, second)]


@on_sqlite
async def test_one_part_may_follow_another_and_only_the_owner_sends_it(hub: RunningHub) -> None:
    async with hub.client(NG) as ng:
        upload = await ng.create_upload(3 * P)
    first, second = os.urandom(P), os.urandom(P)
    held = await HeldPatch.start(hub, NG, upload, 0, first, sent=P // 2)
    follower = await HeldPatch.start(hub, NG, upload, P, second, sent=P)
    await received_whole(hub, upload, P)  # the follower is taken, and waits to be recorded

    async def head_only(who: str, target: str, offset: int) -> tuple[int, str, str]:
        patch = await HeldPatch.start(hub, who, target, offset, os.urandom(P), sent=0)
        return await patch.answer()

    # A second follower of the same part, and a third part in flight: the plain tus refusal.
    assert await head_only(NG, upload, P) == (409, "upload.offset_mismatch", "")
    assert await head_only(NG, upload, 2 * P) == (409, "upload.offset_mismatch", "")
    # Another country's participant at the very offset a follower would take: exactly the
    # answer for an upload that does not exist.
    assert await head_only(GH, upload, P) == await head_only(GH, MISSING, P)
    assert await head_only(GH, upload, P) == (404, "upload.not_found", "")
    assert await held.finish() == (204, "", str(P))
    assert await follower.answer() == (204, "", str(2 * P))
    assert await parts_of(hub, upload) == [(0, first), (P, second)]


@on_sqlite
async def test_the_client_keeps_two_parts_in_flight_where_the_hub_offers_it(
    hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every part counts as quick, so that the window does not depend on how busy the machine is.
    monkeypatch.setattr("pgs_hub.hub.client.attachments.QUICK_BELOW_SECONDS", float("inf"))
    monkeypatch.setattr("pgs_hub.hub.client.attachments.GROW_BELOW_SECONDS", float("inf"))
    original = tmp_path / "manifest.pdf"
    original.write_bytes(os.urandom(600_000))
    encrypted = encrypt_file(original, tmp_path)
    stats = TransferStats()
    async with hub.client(NG) as ng:
        limits = await ng.upload_limits()
        # The first upload on a link sends one part at a time until a part answers quickly.
        ng.quick_link = True
        upload = await upload_file(
            ng, encrypted, part_size=16_384, max_part_size=limits.max_part_bytes,
            parts_in_flight=limits.parts_in_flight, stats=stats,
        )  # fmt: skip
    parts = await parts_of(hub, upload)
    assert b"".join(data for _, data in parts) == encrypted.ciphertext.read_bytes()
    assert stats.parts == len(parts)
    assert stats.body_bytes == encrypted.ciphertext_size  # nothing sent twice
    counted = await followed(hub)
    assert counted.get("stored", 0) >= 1
    assert "not_stored" not in counted


@on_sqlite
async def test_a_hub_that_takes_one_part_at_a_time_makes_the_client_fall_back(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hub nodes behind a balancer say ``parts_in_flight = 1``; a client that sends a second part
    anyway (an older configuration, a node that says otherwise) has it refused, and sends the
    rest one part at a time."""
    monkeypatch.setattr("pgs_hub.hub.client.attachments.QUICK_BELOW_SECONDS", float("inf"))
    monkeypatch.setattr("pgs_hub.hub.client.attachments.GROW_BELOW_SECONDS", float("inf"))
    config = CAPS + "parts_in_flight = 1\n"
    async with launched(tmp_path / "home", database_url, ncps=(NG,), config=config) as running:
        original = tmp_path / "manifest.pdf"
        original.write_bytes(os.urandom(300_000))
        encrypted = encrypt_file(original, tmp_path)
        async with running.client(NG) as ng:
            limits = await ng.upload_limits()
            assert limits.parts_in_flight == 1
            # By hand: a part at the end of one in flight is refused at once.
            upload = await ng.create_upload(2 * P)
            held = await HeldPatch.start(running, NG, upload, 0, os.urandom(P), sent=P // 2)
            follower = await HeldPatch.start(running, NG, upload, P, os.urandom(P), sent=0)
            assert await follower.answer() == (409, "upload.offset_mismatch", "")
            assert (await held.finish())[:2] == (204, "")
        # A throttled link, so that the first part is still on its way when the second one's
        # head is read.
        port = int(running.url.rsplit(":", 1)[1])
        async with SlowLink(port, rate=400_000, drop_every=1 << 40) as link:
            stats = TransferStats()
            through = HubClient(link.url, running.people[NG], authority=running.authority.public)
            async with through as ng:
                ng.quick_link = True
                upload = await upload_file(
                    ng, encrypted, part_size=part_size(limits), max_part_size=P,
                    parts_in_flight=2, stats=stats,
                )  # fmt: skip
            crossed = link.upstream_body
        parts = await parts_of(running, upload)
        assert b"".join(data for _, data in parts) == encrypted.ciphertext.read_bytes()
        # The second part was refused once; after that, one part at a time, none refused.
        assert stats.body_bytes == encrypted.ciphertext_size + P
        assert crossed <= stats.body_bytes
        assert len(parts) == stats.parts == -(-encrypted.ciphertext_size // P)
