"""Encrypted attachments end to end, against a real ``pgs serve``: tus uploads, binding to the
envelope on acceptance, downloads by the envelope's parties only, Range, and every refusal.

Caps are small here (``[attachments]`` in config.toml) so that refusals are cheap to reach.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from pgs_hub.hub.auth.httpsig import sign_request
from pgs_hub.hub.client import HubClient, HubClientError, attachments
from pgs_hub.hub.client.attachments import (
    AttachmentError,
    TransferStats,
    download_attachment,
    encrypt_file,
    upload_file,
)
from pgs_hub.hub.client.client import LARGE_BODY
from pgs_hub.hub.desk.hubapi import HubApi
from pgs_hub.hub.storage import blobs
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import upload_parts, uploads
from pgs_hub.protocols.api import Acceptance
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from tests.e2e.harness import RunningHub, launched
from tests.e2e.messages import example
from tests.e2e.rawhttp import Reply, call
from tests.e2e.stored_parts import stored_parts

NG, GH, CM, AUDITOR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "GH-AUDIT"
CAPS = """[attachments]
max_file_bytes = 200000
max_message_bytes = 300000
quota_bytes = 500000
max_part_bytes = 65536
"""
TUS = {"Tus-Resumable": "1.0.0"}
MISSING = "AAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with launched(tmp_path / "home", database_url, ncps=(NG, GH, CM), config=CAPS) as running:
        await running.enrol(AUDITOR, "auditor", scope="GH")
        yield running


def content_with(*described: dict[str, Any]) -> Any:
    doc = example(MessageKind.ALERT).model_dump(mode="json", exclude_none=True)
    doc["attachments"] = list(described)
    return parse_message(MessageKind.ALERT, json.dumps(doc).encode())


async def raw(
    hub: RunningHub, who: str, method: str, path: str, body: bytes | None = None, **headers: str
) -> Reply:
    ctype = headers.pop("content_type", None)
    async with aiohttp.ClientSession() as session:
        return await call(
            session, method, hub.url + path, key=hub.people[who].signing, body=body,
            content_type=ctype, headers={k.replace("_", "-"): v for k, v in headers.items()},
        )  # fmt: skip


async def count_uploads(hub: RunningHub) -> tuple[int, int]:
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.scalar(select(func.count()).select_from(uploads))
            parts = await conn.scalar(select(func.count()).select_from(upload_parts))
    finally:
        await engine.dispose()
    return int(rows or 0), int(parts or 0)


async def refused_when_a_stored_byte_changes(
    hub: RunningHub, upload: str, attachment: Any, folder: Path
) -> None:
    """Flip one byte of the last stored part (its file, beside the SQLite database), check the
    download is refused, put it back."""
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            part = (
                await conn.execute(
                    select(upload_parts.c.file)
                    .where(upload_parts.c.upload_id == upload)
                    .order_by(upload_parts.c.position.desc())
                )
            ).first()
        files = blobs.part_files(engine)
    finally:
        await engine.dispose()
    assert part is not None
    assert files is not None
    assert part.file is not None  # SQLite: parts are files
    path = files.path(upload, part.file)
    kept = path.read_bytes()
    flipped = bytearray(kept)
    flipped[len(flipped) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    async with hub.client(GH) as gh:
        with pytest.raises(AttachmentError, match="not the one the sender sent"):
            await download_attachment(gh, attachment, folder)
    assert list(folder.iterdir()) == []
    path.write_bytes(kept)


async def test_parts_larger_than_one_write_arrive_byte_for_byte(
    database_url: str, tmp_path: Path
) -> None:
    """Parts over the client's LARGE_BODY go in slices (hub.client.client.request_body): the
    hub takes them at their declared length, checks them against the signed digest, and holds
    exactly the ciphertext."""
    config = f"[attachments]\nmax_part_bytes = {3 * LARGE_BODY}\n"
    async with launched(tmp_path / "home", database_url, ncps=(NG, GH), config=config) as running:
        original = tmp_path / "manifest.pdf"
        original.write_bytes(os.urandom(4 * LARGE_BODY + 100_000))
        encrypted = encrypt_file(original, tmp_path)
        stats = TransferStats()
        async with running.client(NG) as ng:
            upload = await upload_file(
                ng, encrypted, part_size=2 * LARGE_BODY, max_part_size=3 * LARGE_BODY,
                parts_in_flight=2, stats=stats,
            )  # fmt: skip
            content = content_with(encrypted.description(upload))
            await ng.send(kind=MessageKind.ALERT, content=content, to=[GH], attachments=[upload])
        whole = await raw(running, NG, "GET", f"/v1/uploads/{upload}")
        assert (whole.status, whole.body) == (200, encrypted.ciphertext.read_bytes())
        # 2 MiB, then what is left (~2.1 MiB, within the grown 3 MiB): both over LARGE_BODY.
        assert (stats.parts, stats.interruptions) == (2, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQL: storage tests, both
async def test_an_attachment_travels_encrypted_to_the_envelopes_parties_only(
    hub: RunningHub, tmp_path: Path
) -> None:
    original = tmp_path / "seal photo.jpg"
    original.write_bytes(os.urandom(150_000))
    encrypted = encrypt_file(original, tmp_path)
    async with hub.client(NG) as ng:
        upload = await upload_file(ng, encrypted, part_size=50_000)
        content = content_with(encrypted.description(upload))
        sealed, accepted = await ng.send(
            kind=MessageKind.ALERT, content=content, to=[GH], attachments=[upload]
        )
        assert accepted.mid == sealed.header.mid
        assert sealed.header.att == (upload,)
        # The same bytes again: the original acceptance (the binding holds, idempotent).
        assert (await ng.submit(sealed.raw)).mid == sealed.header.mid
    ciphertext = encrypted.ciphertext.read_bytes()
    assert original.read_bytes()[:4096] not in ciphertext  # what the hub holds is ciphertext

    # The recipient reads the message, downloads, verifies and decrypts.
    async with hub.client(GH) as gh:
        opened = await gh.read(sealed.header.mid)
        attachment = opened.content.attachments[0]  # type: ignore[attr-defined]
        saved = await download_attachment(gh, attachment, tmp_path / "inbox")
    assert saved.name == "seal photo.jpg"
    assert saved.read_bytes() == original.read_bytes()
    assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == ["seal photo.jpg"]

    # A byte changed in the hub's copy: the recipient refuses it and keeps nothing.
    await refused_when_a_stored_byte_changes(hub, upload, attachment, tmp_path / "tampered")

    # Range: one slice of the ciphertext (206), and a range past the end (416).
    part = await raw(hub, GH, "GET", f"/v1/uploads/{upload}", Range="bytes=10-19")
    assert part.status == 206
    assert part.body == ciphertext[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(ciphertext)}"
    tail = await raw(hub, GH, "GET", f"/v1/uploads/{upload}", Range="bytes=-7")
    assert (tail.status, tail.body) == (206, ciphertext[-7:])
    beyond = await raw(hub, GH, "GET", f"/v1/uploads/{upload}", Range=f"bytes={len(ciphertext)}-")
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(ciphertext)}"
    # The sender may fetch its envelope, so its blob too.
    whole = await raw(hub, NG, "GET", f"/v1/uploads/{upload}")
    assert (whole.status, whole.body) == (200, ciphertext)

    # Anyone else: exactly the answer a blob that does not exist gets.
    stranger = await raw(hub, CM, "GET", f"/v1/uploads/{upload}")
    missing = await raw(hub, CM, "GET", f"/v1/uploads/{MISSING}")
    assert stranger.brief() == missing.brief()
    assert stranger.code == "upload.not_found"
    assert (await raw(hub, AUDITOR, "GET", f"/v1/uploads/{upload}")).code == "upload.not_found"

    # Sent, the blob is read-only and belongs to that message alone.
    patched = await raw(
        hub, NG, "PATCH", f"/v1/uploads/{upload}", b"x",
        content_type="application/offset+octet-stream", Upload_Offset=str(len(ciphertext)), **TUS,
    )  # fmt: skip
    assert patched.code == "upload.bound"
    assert (await raw(hub, NG, "DELETE", f"/v1/uploads/{upload}", **TUS)).code == "upload.bound"
    async with hub.client(NG) as ng:
        with pytest.raises(HubClientError) as taken:
            await ng.send(kind=MessageKind.ALERT, content=content, to=[CM], attachments=[upload])
    assert taken.value.code == "attachment.upload_taken"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_tus_refusals_come_before_anything_is_stored(hub: RunningHub, tmp_path: Path) -> None:
    options = await raw(hub, NG, "OPTIONS", "/v1/uploads")
    assert options.status == 204
    assert options.headers["Tus-Version"] == "1.0.0"
    assert set(options.headers["Tus-Extension"].split(",")) == {
        "creation", "checksum", "expiration", "termination",
    }  # fmt: skip
    assert options.headers["Tus-Max-Size"] == "200000"
    assert options.headers["Tus-Checksum-Algorithm"] == "sha256"
    assert (await raw(hub, AUDITOR, "OPTIONS", "/v1/uploads")).code == "upload.forbidden"

    # Creation: the tus version, the file cap and the quota, checked before any row exists.
    no_tus = await raw(hub, NG, "POST", "/v1/uploads", Upload_Length="10")
    assert (no_tus.status, no_tus.headers["Tus-Version"]) == (412, "1.0.0")
    with_body = await raw(
        hub, NG, "POST", "/v1/uploads", b"x", content_type="application/offset+octet-stream",
        Upload_Length="1", **TUS,
    )  # fmt: skip
    assert (with_body.status, with_body.code) == (422, "upload.body_on_creation")
    too_big = await raw(hub, NG, "POST", "/v1/uploads", Upload_Length="200001", **TUS)
    assert (too_big.status, too_big.code) == (413, "upload.too_large")
    assert await count_uploads(hub) == (0, 0)
    made = [await raw(hub, NG, "POST", "/v1/uploads", Upload_Length="200000", **TUS) for _ in "ab"]
    assert [m.status for m in made] == [201, 201]
    assert "Upload-Expires" in made[0].headers
    over_quota = await raw(hub, NG, "POST", "/v1/uploads", Upload_Length="100001", **TUS)
    assert (over_quota.status, over_quota.code) == (413, "upload.quota_exceeded")
    assert await count_uploads(hub) == (2, 0)
    path = made[0].headers["Location"]

    def patch(offset: int, body: bytes, **headers: str) -> Any:
        return raw(
            hub, NG, "PATCH", path, body, content_type="application/offset+octet-stream",
            Upload_Offset=str(offset), **TUS, **headers,
        )  # fmt: skip

    assert (await patch(0, b"x" * 65537)).code == "upload.part_too_large"
    assert (await patch(5, b"abc")).code == "upload.offset_mismatch"
    wrong_sum = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    bad = await patch(0, b"abc", Upload_Checksum=f"sha256 {wrong_sum}")
    assert (bad.status, bad.code) == (460, "upload.checksum_mismatch")
    assert (await patch(0, b"abc", Upload_Checksum="md5 AAAA")).code == "upload.checksum_algorithm"
    assert await count_uploads(hub) == (2, 0)  # nothing of the refused PATCHes was stored
    good_sum = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    ok = await patch(0, b"abc", Upload_Checksum=f"sha256 {good_sum}")
    assert (ok.status, ok.headers["Upload-Offset"]) == (204, "3")
    head = await raw(hub, NG, "HEAD", path, **TUS)
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("3", "200000")

    # Someone else's upload is answered exactly like a missing one.
    theirs = await raw(hub, GH, "HEAD", path, **TUS)
    missing = await raw(hub, GH, "HEAD", f"/v1/uploads/{MISSING}", **TUS)
    assert (theirs.status, missing.status) == (404, 404)
    assert (await raw(hub, GH, "DELETE", path, **TUS)).code == "upload.not_found"

    assert (await raw(hub, NG, "DELETE", path, **TUS)).status == 204
    assert (await raw(hub, NG, "HEAD", path, **TUS)).status == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_envelope_may_reference_only_complete_uploads_of_its_sender_within_the_cap(
    hub: RunningHub, tmp_path: Path
) -> None:
    async with hub.client(GH) as gh:
        gh_file = tmp_path / "gh.bin"
        gh_file.write_bytes(b"gh")
        gh_upload = await upload_file(gh, encrypt_file(gh_file, tmp_path))
    async with hub.client(NG) as ng:
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(160_000))
        first = encrypt_file(big, tmp_path)
        second = encrypt_file(big, tmp_path)
        # Two files that together are over the message cap (each within the file cap).
        ids = [await upload_file(ng, e, part_size=65536) for e in (first, second)]
        cases = {
            "attachment.unknown_upload": ([gh_upload], first),
            "attachment.message_too_large": (ids, None),
        }
        for code, (att, single) in cases.items():
            described = (
                [single.description(att[0])]
                if single is not None
                else [first.description(ids[0]), second.description(ids[1])]
            )
            with pytest.raises(HubClientError) as refused:
                await ng.send(
                    kind=MessageKind.ALERT, content=content_with(*described), to=[GH],
                    attachments=att,
                )  # fmt: skip
            assert refused.value.code == code
        fresh = await ng.create_upload(first.ciphertext_size)
        with pytest.raises(HubClientError) as refused:
            await ng.send(
                kind=MessageKind.ALERT, content=content_with(first.description(fresh)), to=[GH],
                attachments=[fresh],
            )  # fmt: skip
        assert refused.value.code == "attachment.incomplete_upload"
    await two_messages_racing_for_one_upload_bind_it_once(hub, tmp_path)


async def two_messages_racing_for_one_upload_bind_it_once(hub: RunningHub, tmp_path: Path) -> None:
    """Both pass the pre-check (the upload is free when each is looked at); the binding written
    with the envelope decides: one is accepted, the other refused, and nothing half-stored."""
    small = tmp_path / "note.txt"
    small.write_bytes(b"seal number 4471")
    encrypted = encrypt_file(small, tmp_path)
    async with hub.client(NG) as ng:
        upload = await upload_file(ng, encrypted)
        keys = [(GH, await ng.recipient_key(GH))]
        me = hub.people[NG]
        sealed = [
            seal_message(
                sender_id=NG, signer=me.signing, recipients=keys, kind=MessageKind.ALERT,
                content=content_with(encrypted.description(upload)), tlp=Tlp.AMBER,
                now=int(time.time()), attachments=[upload],
            ).raw
            for _ in range(2)
        ]  # fmt: skip
        answers = await asyncio.gather(*(ng.submit(raw) for raw in sealed), return_exceptions=True)
    accepted = [a for a in answers if isinstance(a, Acceptance)]
    refused = [a for a in answers if isinstance(a, HubClientError)]
    assert len(accepted) == 1, answers
    assert [r.code for r in refused] == ["attachment.upload_taken"]
    async with hub.client(GH) as gh:
        inbox = await gh.inbox()
    assert [i.mid for i in inbox.items] == [accepted[0].mid]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_parts_grow_to_the_hubs_cap_and_the_blob_is_the_ciphertext(
    hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a fast link the client doubles its parts up to the hub's cap (fewer signed, committed
    PATCHes); the hub stores each at its offset and the parts make up the ciphertext exactly."""
    # Every part counts as fast, so that the sizes do not depend on how busy the machine is.
    monkeypatch.setattr("pgs_hub.hub.client.attachments.GROW_BELOW_SECONDS", float("inf"))
    original = tmp_path / "manifest.pdf"
    original.write_bytes(os.urandom(190_000))
    encrypted = encrypt_file(original, tmp_path)
    stats = TransferStats()
    asked: list[str] = []  # HEADs: the offsets the client asked the hub for
    offset_of = HubClient.upload_offset

    async def counted(client: HubClient, upload_id: str) -> int:
        asked.append(upload_id)
        return await offset_of(client, upload_id)

    monkeypatch.setattr(HubClient, "upload_offset", counted)
    hashed: list[int] = []  # the sizes of the parts the client hashed
    digest_of = attachments.content_digest

    def digest(data: bytes) -> str:
        hashed.append(len(data))
        return digest_of(data)

    monkeypatch.setattr(attachments, "content_digest", digest)
    async with hub.client(NG) as ng:
        cap = (await ng.upload_limits()).max_part_bytes
        upload = await upload_file(ng, encrypted, part_size=16_384, max_part_size=cap, stats=stats)
        # A new upload starts at 0 without asking; one resumed asks where the hub stands.
        assert asked == []
        # Each part was hashed once, ahead of its PATCH (the signature is made as it is sent).
        assert len(hashed) == stats.parts
        assert sum(hashed) == encrypted.ciphertext_size
        assert await upload_file(ng, encrypted, upload_id=upload) == upload
        assert asked == [upload]
        # The next attachment on this link starts at the size the first one reached.
        second = TransferStats()
        await upload_file(ng, encrypted, part_size=16_384, max_part_size=cap, stats=second)
        assert ng.part_size_reached == cap
        assert second.parts == -(-encrypted.ciphertext_size // cap) < stats.parts
    expected, left, size = [], encrypted.ciphertext_size, 16_384
    while left:
        expected.append(min(size, left))
        left -= expected[-1]
        size = min(cap, size * 2)
    stored = await stored_parts(hub, upload)
    # On SQLite each part is a file of its own, fsynced; the rows name them and hold no bytes.
    assert all(p.file is not None and p.data == b"" for p in stored)
    parts = [p.content for p in stored]
    assert [len(p) for p in parts] == expected == [16_384, 32_768, 65_536, 65_536, *expected[4:]]
    assert stats.parts == len(expected)
    assert b"".join(parts) == encrypted.ciphertext.read_bytes()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_desk_sends_parts_within_the_hubs_cap(
    hub: RunningHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk uploads as pgs send does: parts start within the hub's cap and grow to it. (It
    used to send the client's default part of 1 MiB whatever the cap, which this hub, with a
    cap of 64 KiB, refuses: no attachment could go from the desk.)"""
    monkeypatch.setattr("pgs_hub.hub.client.attachments.GROW_BELOW_SECONDS", float("inf"))
    desk = HubApi(hub.url, hub.people[NG], authority=hub.authority.public)
    await desk.start()
    try:
        entry, upload = await desk.attach("manifest.pdf", os.urandom(150_000), tmp_path)
    finally:
        await desk.close()
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            positions = [
                r.position
                for r in await conn.execute(
                    select(upload_parts.c.position)
                    .where(upload_parts.c.upload_id == upload)
                    .order_by(upload_parts.c.position)
                )
            ]
    finally:
        await engine.dispose()
    # 150,000 bytes of plaintext make three parts of at most 64 KiB each.
    assert positions == list(range(0, entry["blob"]["size"], 65_536)) == [0, 65_536, 131_072]


async def test_a_parts_checksum_is_the_sha256_its_content_digest_carries(hub: RunningHub) -> None:
    """The client hashes a part once: its Upload-Checksum is taken from the Content-Digest it
    signed (and made by hand when nothing is signed)."""
    data = os.urandom(70_000)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    async with hub.client(NG) as ng:
        signed = ng.part_headers("A" * 22, 0, data)
        # Hashed beforehand: only the signature is made here, over the same Content-Digest.
        ahead = ng.part_headers("A" * 22, 0, data, digest=f"sha-256=:{digest}:")
    assert signed["Upload-Checksum"] == f"sha256 {digest}"
    assert signed["Content-Digest"] == f"sha-256=:{digest}:"
    assert "Signature" in signed
    assert ahead["Upload-Checksum"] == signed["Upload-Checksum"]
    assert ahead["Content-Digest"] == signed["Content-Digest"]
    assert ahead["Signature"] != signed["Signature"]  # a nonce of its own
    async with HubClient(hub.url, None) as anonymous:
        unsigned = anonymous.part_headers("A" * 22, 0, data)
    assert unsigned["Upload-Checksum"] == f"sha256 {digest}"
    assert "Content-Digest" not in unsigned


async def _patch_by_hand(
    hub: RunningHub,
    who: str,
    path: str,
    offset: int,
    *,
    signed_body: bytes,
    sent: bytes,
    chunked: bool = False,
) -> tuple[int, str]:
    """A PATCH whose head is signed over ``signed_body`` and which then sends ``sent`` (nothing
    at all when empty), with its Content-Length or ``chunked`` (no length declared); the status
    and problem code of the answer."""
    fields = TUS | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    fields |= sign_request(
        method="PATCH", url=hub.url + path, headers=fields, body=signed_body,
        key=hub.people[who].signing, now=int(time.time()),
    )  # fmt: skip
    host, port = hub.url.removeprefix("http://").split(":")
    head = f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    if chunked:
        head += "Transfer-Encoding: chunked\r\nConnection: close\r\n"
        step = 16_384
        sent = (
            b"".join(
                b"%x\r\n%b\r\n" % (len(sent[i : i + step]), sent[i : i + step])
                for i in range(0, len(sent), step)
            )
            + b"0\r\n\r\n"
        )
    else:
        head += f"Content-Length: {len(signed_body)}\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode() + sent)
        with contextlib.suppress(ConnectionError):  # the hub may answer and close first
            await writer.drain()
        # The hub's body deadline is 30 s: an answer within 20 s to a head alone was decided
        # from the head.
        answered = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=20)
        length = int(next(
            (line.split(b":", 1)[1] for line in answered.split(b"\r\n")
             if line.lower().startswith(b"content-length:")),
            b"0",  # an answer without a body (204: stored)
        ))  # fmt: skip
        body = await asyncio.wait_for(reader.readexactly(length), timeout=20)
        doc = json.loads(body) if length else {}
    finally:
        writer.close()
    return int(answered.split(b" ", 2)[1]), doc.get("code", "")


async def test_a_part_without_a_declared_length_is_cut_off_at_the_cap(hub: RunningHub) -> None:
    """A chunked PATCH declares no length: the hub counts its bytes as they come and refuses it
    (413) once they pass ``max_part_bytes``, with nothing of it stored."""
    async with hub.client(NG) as ng:
        upload = await ng.create_upload(100_000)
    body = os.urandom(65_537)  # one byte over this hub's cap
    answer = await _patch_by_hand(
        hub, NG, f"/v1/uploads/{upload}", 0, signed_body=body, sent=body, chunked=True
    )
    assert answer == (413, "upload.part_too_large")
    assert await count_uploads(hub) == (1, 0)
    async with hub.client(NG) as ng:
        assert await ng.upload_offset(upload) == 0


async def test_a_patch_is_decided_from_its_head_and_its_body_checked_against_the_signature(
    hub: RunningHub,
) -> None:
    """Whose upload and which offset are decided before the body is read (a head alone gets
    its answer); a body that is not the one signed is refused after it, and nothing is kept."""
    async with hub.client(NG) as ng:
        upload = await ng.create_upload(1000)
    path = f"/v1/uploads/{upload}"
    body = os.urandom(1000)
    head_only = {"signed_body": body, "sent": b""}
    assert await _patch_by_hand(hub, GH, path, 0, **head_only) == (404, "upload.not_found")
    assert await _patch_by_hand(hub, NG, path, 5, **head_only) == (409, "upload.offset_mismatch")
    tampered = {"signed_body": body, "sent": bytes(b ^ 1 for b in body)}
    assert await _patch_by_hand(hub, NG, path, 0, **tampered) == (401, "auth.digest_mismatch")
    assert await count_uploads(hub) == (1, 0)
    async with hub.client(NG) as ng:
        assert await ng.upload_part(upload, 0, body) == len(body)
    assert await count_uploads(hub) == (1, 1)
