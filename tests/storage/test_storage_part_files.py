"""Attachment parts as files beside an SQLite database (hub.storage.part_files): the row names a
whole, fsynced file and holds no bytes; reads cross rows and files alike; what no row names is
swept (at once for an upload that is gone, after a while for a file a crash or a lost race
left); a backup carries the parts inline and a restore leaves no file behind; a downgrade puts
the bytes back in the rows. PostgreSQL keeps every part in the database."""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from storage_rows import NOW, envelope, to

from pgs_hub.hub.home import MAX_BODY_TIMEOUT_SECONDS
from pgs_hub.hub.services import retention
from pgs_hub.hub.storage import backup, blobs, envelopes, migrate, revision
from pgs_hub.hub.storage.blobs import UploadRow
from pgs_hub.hub.storage.part_files import STRAY_SECONDS, PartFiles
from pgs_hub.hub.storage.tables import upload_parts

pytestmark = pytest.mark.usefixtures("population")
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def row(upload_id: str, length: int) -> UploadRow:
    return UploadRow(upload_id, "fr-1", length, 0, NOW, NOW + 600, None)


def _write(files: PartFiles, upload_id: str, position: int, data: bytes) -> str:
    """A whole part written to its own durable file, as a PATCH's receiver writes it."""
    part = files.create(upload_id, position)
    part.write([data])
    return part.finish()


async def _store(engine: AsyncEngine, upload_id: str, parts: list[bytes]) -> PartFiles:
    files = blobs.part_files(engine)
    assert files is not None
    async with engine.begin() as conn:
        await blobs.create_upload(conn, row(upload_id, sum(map(len, parts))))
    position = 0
    for data in parts:
        name = _write(files, upload_id, position, data)
        async with engine.begin() as conn:
            assert await blobs.append(conn, upload_id, position, data, file=name)
        position += len(data)
    return files


async def _read(engine: AsyncEngine, upload_id: str, start: int, end: int) -> bytes:
    return b"".join([piece async for piece in blobs.read(engine, upload_id, start, end)])


async def test_postgresql_keeps_parts_in_the_database(engine: AsyncEngine) -> None:
    assert (blobs.part_files(engine) is None) == (engine.dialect.name == "postgresql")


@SQLITE_ONLY
async def test_a_part_is_a_file_the_row_names_and_reads_cross_parts(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "PIECE_BYTES", 3)  # a part's file is read in several pieces
    files = await _store(engine, "u1", [b"0123", b"456", b"789"])
    async with engine.connect() as conn:
        rows = (await conn.execute(select(upload_parts).order_by(upload_parts.c.position))).all()
    assert [(r.position, r.data) for r in rows] == [(0, b""), (4, b""), (7, b"")]
    assert [files.path("u1", r.file).read_bytes() for r in rows] == [b"0123", b"456", b"789"]
    assert oct(files.path("u1", rows[0].file).stat().st_mode & 0o777) == "0o600"
    whole = b"0123456789"
    for start, end in [(0, 10), (2, 9), (3, 4), (4, 10), (9, 10), (5, 6)]:
        assert await _read(engine, "u1", start, end) == whole[start:end]
    # One query per part, however many pieces its file is read in.
    queries: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "FROM upload_parts" in statement:
            queries.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await _read(engine, "u1", 0, 10) == whole
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len(queries) == 3
    # A second PATCH at an offset already taken is refused; its own file is the one to remove.
    late = files.create("u1", 0)
    late.write([b"XXXX"])
    async with engine.begin() as conn:
        assert not await blobs.append(conn, "u1", 0, b"", file=late.finish(), size=4)
    late.remove()
    assert sorted(os.listdir(files.path("u1", ""))) == sorted(r.file for r in rows)
    assert await _read(engine, "u1", 0, 10) == whole


@SQLITE_ONLY
async def test_what_no_row_names_is_swept(engine: AsyncEngine) -> None:
    files = await _store(engine, "kept", [b"abc"])
    await _store(engine, "gone", [b"def"])
    async with engine.begin() as conn:
        assert await blobs.remove(conn, "gone")
    fresh = _write(files, "kept", 3, b"left by a lost race")  # its transaction may yet commit
    stale = _write(files, "kept", 3, b"left by a crash")
    old = time.time() - STRAY_SECONDS - 1
    os.utime(files.path("kept", stale), (old, old))
    assert await blobs.sweep_files(engine) == 2  # the gone upload's part, the stale file
    assert files.uploads() == ["kept"]
    assert not files.path("kept", stale).exists()
    assert files.path("kept", fresh).exists()
    assert await _read(engine, "kept", 0, 3) == b"abc"


@SQLITE_ONLY
async def test_a_backup_holds_the_parts_and_a_restore_leaves_no_file(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    files = await _store(engine, "u1", [b"part one,", b" part two"])
    await _store(engine, "u2", [b"lost"])
    for name in os.listdir(files.path("u2", "")):  # deleted with its upload during the copy
        files.path("u2", name).unlink()
    copy = tmp_path / "backup.db"
    backup.backup(str(engine.url), copy, lambda done, total: None, tables=1)
    with sqlite3.connect(copy) as db:
        held = db.execute("SELECT upload_id, data, file FROM upload_parts ORDER BY position")
        assert held.fetchall() == [("u1", b"part one,", None), ("u1", b" part two", None)]
        assert db.execute("SELECT id FROM uploads").fetchall() == [("u1",)]
    await engine.dispose()
    staged = backup.stage_sqlite(copy, str(engine.url), lambda done, total: None)
    backup.commit_sqlite(staged, str(engine.url))
    assert not files.root.exists()
    assert await _read(engine, "u1", 0, 18) == b"part one, part two"


@SQLITE_ONLY
async def test_a_downgrade_puts_the_bytes_back_in_the_rows(
    engine: AsyncEngine, database_url: str
) -> None:
    await _store(engine, "u1", [b"0123", b"4567"])
    await engine.dispose()
    await migrate.downgrade(database_url, "0010")
    with sqlite3.connect(database_url.split("///", 1)[1]) as db:
        rows = db.execute("SELECT position, data FROM upload_parts ORDER BY position").fetchall()
    assert rows == [(0, b"0123"), (4, b"4567")]


def test_a_part_the_disk_refuses_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = PartFiles(tmp_path / "hub.db-parts")
    first = _write(files, "u1", 0, b"0123")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pgs_hub.hub.storage.part_files.os.fsync", full)
    part = files.create("u1", 4)
    part.write([b"4567"])
    with pytest.raises(OSError, match="No space left"):
        part.finish()
    assert os.listdir(files.path("u1", "")) == [first]


@SQLITE_ONLY
async def test_a_purged_body_takes_its_part_files_at_once(engine: AsyncEngine) -> None:
    files = await _store(engine, "done-att", [b"abc"])
    await _store(engine, "draft", [b"def"])
    async with engine.begin() as conn:
        done = await envelopes.insert_envelope(conn, envelope("m-done"), to("de-1"))
        assert await blobs.bind(conn, "fr-1", "m-done", ["done-att"])
        assert await envelopes.advance_delivery(conn, done, "de-1", "read", NOW + 5)
    assert await retention.purge_delivered_bodies(engine, 1, NOW + 2 * retention.DAY) == 1
    assert files.uploads() == ["draft"]


@SQLITE_ONLY
async def test_a_database_from_before_part_files_is_backed_up_and_restored(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    """A backup of an older schema (0010: no ``file`` column) is copied as it is, and restores
    (then ``pgs db upgrade`` brings it to head)."""
    await engine.dispose()
    await migrate.downgrade(database_url, "0010")
    assert await revision.current_revision(database_url) == "0010"
    copy = tmp_path / "old.db"
    assert backup.backup(database_url, copy, lambda done, total: None, tables=1) == "sqlite"
    staged = backup.stage_sqlite(copy, database_url, lambda done, total: None)
    backup.commit_sqlite(staged, database_url)
    await migrate.upgrade(database_url)
    assert await revision.current_revision(database_url) == revision.head_revision()


@SQLITE_ONLY
async def test_a_sweep_that_cannot_read_the_folder_logs_and_holds_nothing_up(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    files = blobs.part_files(engine)
    assert files is not None
    files.root.write_bytes(b"not a folder")  # what a mistaken operator could leave
    assert await blobs.sweep_files(engine) == 0
    assert "could not sweep the upload part files" in caplog.text


def test_a_part_still_arriving_is_never_swept_as_a_stray() -> None:
    """A part's file is written while its body arrives, for as long as the longest body
    deadline config.toml allows; the sweep waits longer than that before it calls a file that
    no row names a stray."""
    assert STRAY_SECONDS > MAX_BODY_TIMEOUT_SECONDS + 600
