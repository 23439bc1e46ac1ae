"""A PATCH body received into its part: on SQLite its bytes reach the part's file while the body
is still arriving, and what is refused, cut off or not recorded leaves no file behind."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from collections.abc import AsyncIterator
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import NOW

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub.errors import Conflict, Unavailable
from pgs_hub.hub.policy import load_policy
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services import attachments
from pgs_hub.hub.services.attachments import PartReceiver
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.services.upload_window import PartInFlight
from pgs_hub.hub.storage import blobs
from pgs_hub.hub.storage.blobs import UploadRow
from pgs_hub.hub.storage.part_files import PartFiles
from pgs_hub.hub.storage.tables import upload_parts

pytestmark = pytest.mark.usefixtures("population")
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
BODY = os.urandom(40)


@pytest.fixture
async def ctx(engine: AsyncEngine) -> AsyncIterator[HubContext]:
    context = HubContext(
        engine=engine,
        policy=PolicyHolder(None, load_policy("", source="test policy")),
        authority=SigningKey.generate().public,
        hub_key=SigningKey.generate(),
    )
    try:
        yield context
    finally:
        await context.close_writers()


async def _upload(engine: AsyncEngine, upload_id: str = "u1") -> UploadRow:
    row = UploadRow(upload_id, "fr-1", len(BODY), 0, NOW, NOW + 600, None)
    async with engine.begin() as conn:
        await blobs.create_upload(conn, row)
    return row


def _files(engine: AsyncEngine) -> PartFiles:
    files = blobs.part_files(engine)
    assert files is not None
    return files


def _on_disk(files: PartFiles, upload_id: str) -> dict[str, int]:
    folder = files.path(upload_id, "")
    if not folder.exists():  # no part of this upload has reached the disk
        return {}
    return {name: (folder / name).stat().st_size for name in os.listdir(folder)}


@pytest.fixture
async def in_batches_of_8(
    ctx: HubContext, monkeypatch: pytest.MonkeyPatch
) -> tuple[UploadRow, PartFiles]:
    """An upload "u1" of BODY's length, its parts folder, and receivers writing 8 bytes a batch."""
    monkeypatch.setattr(PartReceiver, "BATCH", 8)
    return await _upload(ctx.engine), _files(ctx.engine)


@SQLITE_ONLY
async def test_a_parts_bytes_reach_its_file_while_the_body_is_still_arriving(
    ctx: HubContext, in_batches_of_8: tuple[UploadRow, PartFiles]
) -> None:
    upload, files = in_batches_of_8
    receiver = attachments.receive(
        ctx, attachments.Accepted(upload), offset=0, length=None, algorithms=("sha-256",)
    )
    for start in range(0, 24, 4):
        receiver.add(BODY[start : start + 4])
        await asyncio.sleep(0)
    for _ in range(200):  # the batches are written by a worker thread
        if sum(_on_disk(files, "u1").values()) >= 16:
            break
        await asyncio.sleep(0.01)
    # Before the body's last byte has arrived, most of it is in the part's file already.
    assert 16 <= sum(_on_disk(files, "u1").values()) <= 24
    for start in range(24, 40, 4):
        receiver.add(BODY[start : start + 4])
    assert receiver.digests() == {"sha-256": hashlib.sha256(BODY).digest()}
    row = await receiver.store(hashlib.sha256(BODY).digest())
    assert row.stored == len(BODY)
    async with ctx.engine.connect() as conn:
        (named,) = (await conn.execute(select(upload_parts.c.file))).scalars().all()
    assert named is not None
    assert files.path("u1", named).read_bytes() == BODY
    await receiver.abandon()  # stored: nothing to drop
    assert files.path("u1", named).read_bytes() == BODY


@SQLITE_ONLY
async def test_a_part_refused_or_beaten_to_its_offset_leaves_no_file(ctx: HubContext) -> None:
    upload = await _upload(ctx.engine)
    files = _files(ctx.engine)
    refused = attachments.receive(
        ctx, attachments.Accepted(upload), offset=0, length=None, algorithms=()
    )
    refused.add(BODY)
    with pytest.raises(attachments.ChecksumMismatch):
        await refused.store(hashlib.sha256(b"another body").digest())
    await refused.abandon()
    assert _on_disk(files, "u1") == {}
    first, second = [
        attachments.receive(ctx, attachments.Accepted(upload), offset=0, length=None, algorithms=())
        for _ in "ab"
    ]
    first.add(BODY)
    second.add(BODY)
    await first.store(None)
    with pytest.raises(Conflict) as caught:
        await second.store(None)
    assert caught.value.code == "upload.offset_mismatch"
    assert list(_on_disk(files, "u1").values()) == [len(BODY)]  # the winner's file only


@SQLITE_ONLY
async def test_a_disk_that_refuses_a_batch_is_a_503_and_leaves_no_file(
    ctx: HubContext, in_batches_of_8: tuple[UploadRow, PartFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload, files = in_batches_of_8

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    receiver = attachments.receive(
        ctx, attachments.Accepted(upload), offset=0, length=None, algorithms=()
    )
    monkeypatch.setattr("pgs_hub.hub.storage.part_files.os.write", full)
    receiver.add(BODY)
    with pytest.raises(Unavailable):
        await receiver.store(None)
    await receiver.abandon()
    assert _on_disk(files, "u1") == {}
    async with ctx.engine.connect() as conn:
        assert (await conn.execute(select(upload_parts))).all() == []


async def test_every_algorithm_the_signature_names_is_computed(ctx: HubContext) -> None:
    upload = await _upload(ctx.engine)
    receiver = attachments.receive(
        ctx, attachments.Accepted(upload), offset=0, length=None, algorithms=("sha-512",)
    )
    receiver.add(BODY[:10])
    receiver.add(BODY[10:])
    assert receiver.digests() == {
        "sha-256": hashlib.sha256(BODY).digest(),
        "sha-512": hashlib.sha512(BODY).digest(),
    }
    await receiver.store(None)
    async with ctx.engine.connect() as conn:
        stored = (await conn.execute(select(upload_parts.c.data, upload_parts.c.file))).one()
    # PostgreSQL keeps the bytes in the row; SQLite names a file and keeps none there.
    if ctx.engine.dialect.name == "postgresql":
        assert (bytes(stored.data), stored.file) == (BODY, None)
    else:
        assert stored.file is not None
        assert bytes(stored.data) == b""
        assert _files(ctx.engine).path("u1", stored.file).read_bytes() == BODY


async def test_a_part_that_arrives_while_its_follower_reads_the_offset_is_followed(
    ctx: HubContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two parts in flight travel on two connections: the second one's head may be read first,
    and the first one arrive while the second reads the upload's offset. The second is still
    taken as its follower (it once waited for an arrival that had already happened, and was
    refused as at the wrong offset)."""
    upload = await _upload(ctx.engine)
    half = len(BODY) // 2
    arrived: list[PartInFlight] = []

    async def status(_ctx: HubContext, _actor: Member, _upload_id: str) -> UploadRow:
        if not arrived:  # the part before it arrives while the offset is read
            arrived.append(ctx.upload_window.open(upload.id, 0, half, None))
        return upload

    monkeypatch.setattr(attachments, "status", status)
    actor = cast(Member, None)  # decided by the stand-in above
    accepted = await attachments.accepting(ctx, actor, upload.id, offset=half, length=half)
    assert accepted.after is arrived[0]
    # And one that follows nothing in flight is refused as before.
    ctx.upload_window.settle(arrived[0], stored=False)
    with pytest.raises(Conflict) as caught:
        await attachments.accepting(ctx, actor, upload.id, offset=half + 1, length=1)
    assert caught.value.code == "upload.offset_mismatch"


async def test_a_follower_is_recorded_after_the_part_before_it_and_not_without_it(
    ctx: HubContext,
) -> None:
    """On both databases (PostgreSQL keeps a part's bytes for its row): a part that follows one in
    flight waits for it, is recorded after it, and is dropped if that one is."""
    upload = await _upload(ctx.engine)
    half = len(BODY) // 2
    accepted = attachments.Accepted(upload)
    for outcome in ("dropped", "stored"):
        first = attachments.receive(ctx, accepted, offset=0, length=half, algorithms=())
        before = ctx.upload_window.latest(upload.id)
        follows = attachments.Accepted(upload, after=before)
        second = attachments.receive(ctx, follows, offset=half, length=half, algorithms=())
        second.add(BODY[half:])
        waiting = asyncio.ensure_future(second.store(None))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # it cannot be recorded before the part it follows
        first.add(BODY[:half])
        if outcome == "stored":
            assert (await first.store(None)).stored == half
            assert (await waiting).stored == len(BODY)
            break
        await first.abandon()  # cut off: the follower goes with it
        with pytest.raises(Conflict) as caught:
            await waiting
        assert caught.value.code == "upload.offset_mismatch"
        async with ctx.engine.connect() as conn:
            assert (await conn.execute(select(upload_parts))).all() == []
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(select(upload_parts.c.position))).scalars().all()
    assert sorted(rows) == [0, half]
    assert len(ctx.upload_window) == 0
