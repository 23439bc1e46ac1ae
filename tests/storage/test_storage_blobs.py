"""Attachment uploads in the database, on SQLite and PostgreSQL: parts at their offsets, the
compare-and-set that makes a PATCH land once, binding to an envelope, reading ranges, expiry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import NOW, envelope, to

from pgs_hub.hub.services import retention
from pgs_hub.hub.storage import blobs, envelopes
from pgs_hub.hub.storage.blobs import UploadRow
from pgs_hub.hub.storage.tables import upload_parts

pytestmark = pytest.mark.usefixtures("population")


def row(
    upload_id: str, owner: str = "fr-1", length: int = 10, expires_at: int = NOW + 60
) -> UploadRow:
    return UploadRow(upload_id, owner, length, 0, NOW, expires_at, None)


async def _bytes(engine: AsyncEngine, upload_id: str, start: int, end: int) -> bytes:
    return b"".join([piece async for piece in blobs.read(engine, upload_id, start, end)])


async def test_parts_land_once_at_their_offset_and_read_back_in_any_range(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await blobs.create_upload(conn, row("u1"))
        assert await blobs.append(conn, "u1", 0, b"0123")
        assert not await blobs.append(conn, "u1", 0, b"0123")  # the same PATCH again: refused
        assert not await blobs.append(conn, "u1", 3, b"xyz")  # not where the upload stands
        assert not await blobs.append(conn, "u1", 4, b"4567890")  # past the declared length
        assert await blobs.append(conn, "u1", 4, b"456")
        assert await blobs.append(conn, "u1", 7, b"789")
    async with engine.connect() as conn:
        stored = await blobs.upload(conn, "u1")
    assert stored is not None
    assert stored.complete
    whole = b"0123456789"
    for start, end in [(0, 10), (2, 9), (3, 4), (4, 10), (9, 10)]:
        assert await _bytes(engine, "u1", start, end) == whole[start:end]


async def test_binding_takes_only_complete_uploads_of_the_sender(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await blobs.create_upload(conn, row("done", length=2))
        await blobs.append(conn, "done", 0, b"ab")
        await blobs.create_upload(conn, row("half", length=2))
        await blobs.append(conn, "half", 0, b"a")
        await blobs.create_upload(conn, row("theirs", owner="de-1", length=1))
        await blobs.append(conn, "theirs", 0, b"a")
    for ids, owner in [(["half"], "fr-1"), (["theirs"], "fr-1"), (["done", "nope"], "fr-1")]:
        async with engine.begin() as conn:
            assert not await blobs.bind(conn, owner, "m1", ids)
            await conn.rollback()
    async with engine.begin() as conn:
        assert await blobs.bind(conn, "fr-1", "m1", ["done"])
    async with engine.begin() as conn:
        assert await blobs.bind(conn, "fr-1", "m1", ["done"])  # a resubmission of m1
        assert not await blobs.bind(conn, "fr-1", "m2", ["done"])  # another message
        assert not await blobs.append(conn, "done", 2, b"")  # bound: read-only
        assert not await blobs.remove(conn, "done")


async def test_expiry_removes_stale_unbound_uploads_and_those_of_expired_envelopes(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await blobs.create_upload(conn, row("stale", expires_at=NOW + 10))
        await blobs.append(conn, "stale", 0, b"a")
        await blobs.create_upload(conn, row("fresh", expires_at=NOW + 1000))
        await blobs.create_upload(conn, row("sent", length=1, expires_at=NOW + 10))
        await blobs.append(conn, "sent", 0, b"a")
        await envelopes.insert_envelope(conn, envelope("m-sent", exp=NOW + 500), to("de-1"))
        assert await blobs.bind(conn, "fr-1", "m-sent", ["sent"])
        assert await blobs.bytes_held(conn, "fr-1") == 21
    async with engine.begin() as conn:
        assert await blobs.expire(conn, NOW + 100) == 1  # "stale" only: "sent" lives with m-sent
        assert await blobs.upload(conn, "stale") is None
        assert await blobs.upload(conn, "sent") is not None
    async with engine.begin() as conn:
        assert await blobs.expire(conn, NOW + 600) == 1  # m-sent expired: its blob goes
        assert await blobs.upload(conn, "sent") is None
        assert await blobs.upload(conn, "fresh") is not None
        parts = await conn.scalar(select(func.count()).select_from(upload_parts))
        assert parts == 0
        assert await blobs.bytes_held(conn, "fr-1") == 10


async def test_retention_removes_the_blobs_of_a_purged_body_and_only_those(
    engine: AsyncEngine,
) -> None:
    """A purged body takes its attachment blobs with it; a body still owed to a recipient keeps
    its own, and an upload not yet sent is untouched."""
    async with engine.begin() as conn:
        for upload_id in ("done-att", "open-att", "draft"):
            await blobs.create_upload(conn, row(upload_id, length=3, expires_at=NOW + 10**6))
            assert await blobs.append(conn, upload_id, 0, b"abc")
        done = await envelopes.insert_envelope(conn, envelope("m-done"), to("de-1"))
        opened = await envelopes.insert_envelope(conn, envelope("m-open"), to("de-1", "nl-1"))
        assert await blobs.bind(conn, "fr-1", "m-done", ["done-att"])
        assert await blobs.bind(conn, "fr-1", "m-open", ["open-att"])
        assert await envelopes.advance_delivery(conn, done, "de-1", "read", NOW + 5)
        assert await envelopes.advance_delivery(conn, opened, "de-1", "read", NOW + 5)
    assert await retention.purge_delivered_bodies(engine, 1, NOW + 2 * retention.DAY) == 1
    async with engine.connect() as conn:
        assert await blobs.upload(conn, "done-att") is None
        assert await blobs.upload(conn, "open-att") is not None  # nl-1 has not received m-open
        assert await blobs.upload(conn, "draft") is not None
        left = await conn.scalar(
            select(func.count())
            .select_from(upload_parts)
            .where(upload_parts.c.upload_id == "done-att")
        )
        assert left == 0
        assert await blobs.bytes_held(conn, "fr-1") == 6
    assert await retention.purge_delivered_bodies(engine, 1, NOW + 3 * retention.DAY) == 0
