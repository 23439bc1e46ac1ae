"""Attachment parts as files beside an SQLite database (``hub.db-parts/<upload>/<name>``).

Why files: SQLite writes a blob as a chain of pages, each its own WAL frame and ``write``, then
copies them again at the checkpoint. An 8 MiB part took 58-64 ms and 42-47 ms of CPU that way on
the bench machine, against 8-33 ms and 4-26 ms as a file, fsynced, and a row naming it
(``python -m bench.part_store``; bench/README.md, "Parts as files"). On PostgreSQL parts stay in
the database: its hubs need not share a disk.

A part is written and fsynced under a name no other attempt uses (its position and 64 random
bits), before the transaction that records it (``upload_parts.file``); so a row never names a
file that is not whole, and an attempt that lost the race for its offset deletes only its own
file. What a crash or a lost race leaves behind is swept: folders of uploads that no longer
exist at once, files no row names once they are older than :data:`STRAY_SECONDS`.

Everything here is blocking file I/O: the callers run it in a thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final

# A part's file is written while its PATCH body arrives (at most [hub] body_timeout_seconds,
# itself at most an hour: hub.home.MAX_BODY_TIMEOUT_SECONDS), then its short transaction
# records it: a file untouched for longer than this that no row names was left by a crash or a
# lost race.
STRAY_SECONDS: Final = 2 * 3600
SUFFIX: Final = "-parts"


def folder_for(database: Path) -> Path:
    """The parts folder of the SQLite database file ``database``."""
    return database.with_name(database.name + SUFFIX)


class PartFiles:
    """The parts folder of one SQLite database."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _upload(self, upload_id: str) -> Path:
        if not upload_id or "/" in upload_id or upload_id.startswith("."):
            raise ValueError("not an upload id")
        return self.root / upload_id

    def path(self, upload_id: str, name: str) -> Path:
        return self._upload(upload_id) / name

    def create(self, upload_id: str, position: int) -> PartFile:
        """A new, empty part file at ``position`` of the upload, under a name no other attempt
        uses, to be written as its bytes arrive (:class:`PartFile`)."""
        folder = self._upload(upload_id)
        if not folder.is_dir():
            if not self.root.is_dir():
                self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
                _fsync_dir(self.root.parent)
            folder.mkdir(exist_ok=True, mode=0o700)
            _fsync_dir(self.root)
        return PartFile(folder, f"{position}-{secrets.token_hex(8)}")

    def size(self, upload_id: str, name: str) -> int:
        return self.path(upload_id, name).stat().st_size

    def read(self, upload_id: str, name: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of one part's file (at most a part: the caller bounds it)."""
        with self.path(upload_id, name).open("rb") as part:
            part.seek(start)
            return part.read(end - start)

    def remove_uploads(self, upload_ids: Iterable[str]) -> None:
        """Delete the folders of uploads whose rows are gone."""
        for upload_id in upload_ids:
            with contextlib.suppress(ValueError):
                shutil.rmtree(self._upload(upload_id), ignore_errors=True)

    def uploads(self) -> list[str]:
        """The upload ids that have a folder."""
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_dir())
        except FileNotFoundError:
            return []

    def sweep(
        self,
        named: Mapping[str, frozenset[str]],
        *,
        now: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> int:
        """Delete what no row names: the folder of an upload absent from ``named`` (upload id to
        the file names its rows hold), and files older than :data:`STRAY_SECONDS` that its rows
        do not name. ``named`` must be read after :meth:`uploads` listed the folders. Returns
        how many files went."""
        moment = clock() if now is None else now
        gone = 0
        for upload_id in self.uploads():
            folder = self._upload(upload_id)
            keep = named.get(upload_id)
            for entry in _entries(folder):
                if keep is not None and entry.name in keep:
                    continue
                if keep is not None and moment - entry.stat().st_mtime < STRAY_SECONDS:
                    continue  # perhaps an append whose transaction is still to commit
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    gone += 1
            if keep is None:
                with contextlib.suppress(OSError):
                    folder.rmdir()
        return gone

    def remove_all(self) -> None:
        """Delete the whole folder (a restored database names no file: its parts are inline)."""
        shutil.rmtree(self.root, ignore_errors=True)


def _entries(folder: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            yield from (e for e in found if e.is_file(follow_symlinks=False))
    except FileNotFoundError:
        return


class PartFile:
    """One part's file while its bytes arrive: written piece by piece, then made durable
    (:meth:`finish`) or removed (:meth:`remove`). Blocking calls, one at a time, from a thread.

    Each :meth:`write` also starts the writeback of what it wrote (``POSIX_FADV_DONTNEED``:
    Linux then writes the dirty pages out asynchronously, and drops them from the cache once
    clean), so the ``fsync`` after the last byte has little left to flush. Measured on the bench
    machine, 8 MiB arriving in pieces of 256 KiB at ~800 MB/s: 25 ms from the last byte to a
    durable file when written whole then fsynced, 5.5 ms written as it came, 1.2 ms written as
    it came with the writeback started (bench/README.md, "Uploads")."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self._fd: int | None = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.size = 0
        self._name_synced = False

    def write(self, pieces: Iterable[bytes | bytearray]) -> None:
        assert self._fd is not None  # noqa: S101 - not after finish() or remove()
        start = self.size
        for piece in pieces:
            view = memoryview(piece)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
                self.size += written
        if self.size > start:
            with contextlib.suppress(OSError, AttributeError):  # advice only; not everywhere
                os.posix_fadvise(self._fd, start, self.size - start, os.POSIX_FADV_DONTNEED)

    def sync_name(self) -> None:
        """Make the file's name durable now (its folder's fsync), while its bytes still arrive,
        rather than in :meth:`finish`."""
        _fsync_dir(self.folder)
        self._name_synced = True

    def finish(self) -> str:
        """The file made durable, its name in the folder too; returns the name."""
        assert self._fd is not None  # noqa: S101 - once
        try:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
            if not self._name_synced:
                _fsync_dir(self.folder)
        except BaseException:
            self.remove()
            raise
        return self.name

    def remove(self) -> None:
        """Close and delete the file (its part was refused, cut off or not recorded)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / self.name)


def _fsync_dir(folder: Path) -> None:
    """Make a new entry of ``folder`` durable (POSIX: a file's fsync does not cover its name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
