"""Attachment uploads and their bytes (opaque ciphertext): rows in the database, and each part
in the database (PostgreSQL, and parts restored from a backup) or in a file the row names
(SQLite: :mod:`hub.storage.part_files`).

An upload's bytes are the parts its PATCH requests stored, each at its position; an upload is
complete when ``stored == length``. Every write is one short transaction of the caller's: a part
and the new ``stored`` are written together, so a request that did not finish left nothing (a
part's file is written before, and is deleted or swept when no row names it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pgs_hub.hub.storage.part_files import PartFiles, folder_for
from pgs_hub.hub.storage.tables import envelopes, upload_parts, uploads

log = logging.getLogger("pgs.hub")

# A download reads a part's file in pieces of this size (a part may be 64 MiB).
PIECE_BYTES: Final = 1 << 20


@dataclass(frozen=True)
class UploadRow:
    id: str
    owner_id: str
    length: int
    stored: int
    created_at: int
    expires_at: int
    envelope_mid: str | None

    @property
    def complete(self) -> bool:
        return self.stored == self.length


def _row(r: object) -> UploadRow:
    return UploadRow(**r._mapping)  # type: ignore[attr-defined]


async def create_upload(conn: AsyncConnection, row: UploadRow) -> None:
    await conn.execute(insert(uploads).values(**row.__dict__))


async def upload(conn: AsyncConnection, upload_id: str) -> UploadRow | None:
    found = (await conn.execute(select(uploads).where(uploads.c.id == upload_id))).first()
    return _row(found) if found is not None else None


async def uploads_by_id(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, UploadRow]:
    rows = await conn.execute(select(uploads).where(uploads.c.id.in_(list(ids))))
    return {r.id: _row(r) for r in rows}


async def bytes_held(conn: AsyncConnection, owner_id: str) -> int:
    """What ``owner_id``'s uploads take (their declared lengths): what the quota counts."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(uploads.c.length), 0)).where(uploads.c.owner_id == owner_id)
    )
    return int(total or 0)


def part_files(engine: AsyncEngine) -> PartFiles | None:
    """Where parts go as files: beside an SQLite database file; None (parts in the database) on
    PostgreSQL (see :mod:`hub.storage.part_files`)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return PartFiles(folder_for(Path(engine.url.database)))


async def append(
    conn: AsyncConnection,
    upload_id: str,
    position: int,
    data: bytes | bytearray,
    *,
    file: str | None = None,
    size: int | None = None,
) -> bool:
    """Store ``data`` at ``position`` if that is exactly where the upload stands and the upload is
    not bound to an envelope; False (nothing written) otherwise. Atomic with the caller's
    transaction: the compare-and-set on ``stored`` makes two concurrent PATCHes at one offset
    store one part only. With ``file`` (the name of a durable part file of ``size`` bytes, see
    :class:`~hub.storage.part_files.PartFile`), the row names the file and ``data`` is empty."""
    length = len(data) if file is None or size is None else size
    moved = await conn.execute(
        update(uploads)
        .where(
            uploads.c.id == upload_id,
            uploads.c.stored == position,
            uploads.c.length >= position + length,
            uploads.c.envelope_mid.is_(None),
        )
        .values(stored=position + length)
    )
    if moved.rowcount != 1:
        return False
    await conn.execute(
        insert(upload_parts).values(
            upload_id=upload_id, position=position, data=b"" if file else data, file=file
        )
    )
    return True


async def named_files(
    conn: AsyncConnection, upload_ids: Sequence[str]
) -> dict[str, frozenset[str]]:
    """For each of ``upload_ids`` that still exists, the part files its rows name."""
    found: dict[str, set[str]] = {}
    for start in range(0, len(upload_ids), 500):
        chunk = list(upload_ids[start : start + 500])
        for r in await conn.execute(select(uploads.c.id).where(uploads.c.id.in_(chunk))):
            found[r.id] = set()
        rows = await conn.execute(
            select(upload_parts.c.upload_id, upload_parts.c.file).where(
                upload_parts.c.upload_id.in_(chunk), upload_parts.c.file.is_not(None)
            )
        )
        for r in rows:
            found.setdefault(r.upload_id, set()).add(r.file)
    return {k: frozenset(v) for k, v in found.items()}


async def sweep_files(engine: AsyncEngine) -> int:
    """Delete the part files no row names (:meth:`PartFiles.sweep`); 0 on PostgreSQL. Best
    effort: a folder it cannot read or clear is logged and left for the next sweep, so the work
    that follows it (a purge's answer, housekeeping's checkpoint) is never held up by it."""
    files = part_files(engine)
    if files is None:
        return 0
    try:
        listed = await asyncio.to_thread(files.uploads)
        if not listed:
            return 0
        async with engine.connect() as conn:
            named = await named_files(conn, listed)
        return await asyncio.to_thread(files.sweep, named)
    except OSError as exc:
        log.warning("could not sweep the upload part files: %s", exc.strerror or type(exc).__name__)
        return 0


async def remove(conn: AsyncConnection, upload_id: str, *, unbound_only: bool = True) -> bool:
    """Delete an upload and its bytes (only if no envelope references it, by default)."""
    condition = [uploads.c.id == upload_id]
    if unbound_only:
        condition.append(uploads.c.envelope_mid.is_(None))
    gone = await conn.execute(delete(uploads).where(*condition).returning(uploads.c.id))
    if gone.first() is None:
        return False
    await conn.execute(delete(upload_parts).where(upload_parts.c.upload_id == upload_id))
    return True


# Binds one complete upload of ``owner`` to message ``bound_mid`` (already bound to it is fine: a
# resubmission); changes one row, or none when it may not be bound. The envelopes' group commit
# runs it as a step of its plan (hub.storage.envelopes.bind_upload_steps), once per upload.
BIND_ONE: Final = (
    update(uploads)
    .where(
        uploads.c.id == bindparam("upload"),
        uploads.c.owner_id == bindparam("owner"),
        uploads.c.stored == uploads.c.length,
        or_(uploads.c.envelope_mid.is_(None), uploads.c.envelope_mid == bindparam("bound_mid")),
    )
    .values(envelope_mid=bindparam("bound_mid"))
)


async def bind(conn: AsyncConnection, owner_id: str, mid: str, ids: Sequence[str]) -> bool:
    """Mark complete uploads of ``owner_id`` as ``mid``'s (:data:`BIND_ONE` for each). True if
    every one of ``ids`` could be bound (then the caller commits; otherwise it rolls back)."""
    if len(set(ids)) != len(ids):
        return False
    for upload_id in ids:
        bound = await conn.execute(
            BIND_ONE, {"upload": upload_id, "owner": owner_id, "bound_mid": mid}
        )
        if bound.rowcount != 1:
            return False
    return True


async def read(engine: AsyncEngine, upload_id: str, start: int, end: int) -> AsyncIterator[bytes]:
    """The bytes ``[start, end)`` of a complete upload, part by part (a part's file in pieces of
    at most 1 MiB, read in a thread), one short read of the database each (no connection is
    held while the client takes its time)."""
    files = part_files(engine)
    position = start
    while position < end:
        async with engine.connect() as conn:
            part = (
                await conn.execute(
                    select(upload_parts.c.position, upload_parts.c.data, upload_parts.c.file)
                    .where(
                        upload_parts.c.upload_id == upload_id,
                        upload_parts.c.position <= position,
                    )
                    .order_by(upload_parts.c.position.desc())
                    .limit(1)
                )
            ).first()
        if part is None:
            return  # the upload went away meanwhile (expired): the response ends short
        if part.file is None:
            if part.position + len(part.data) <= position:
                return
            piece = bytes(part.data)[position - part.position : end - part.position]
            yield piece
            position += len(piece)
            continue
        if files is None:  # pragma: no cover - only SQLite's rows name files
            return
        # The rest of this part from its file, a piece at a time, with no query in between.
        first, stop, moved = position - part.position, end - part.position, False
        while first < stop:
            try:
                piece = await asyncio.to_thread(
                    files.read, upload_id, part.file, first, min(stop, first + PIECE_BYTES)
                )
            except FileNotFoundError:
                return  # deleted with its upload meanwhile: the response ends short
            if not piece:
                break  # the file ends here: the next part holds what follows
            yield piece
            first, position, moved = first + len(piece), position + len(piece), True
        if not moved:
            return


async def remove_for_envelopes(conn: AsyncConnection, mids: Sequence[str]) -> int:
    """Delete the uploads (and their bytes) bound to ``mids``: the blobs of purged bodies.
    Returns how many uploads went."""
    if not mids:
        return 0
    ids = [
        r.id
        for r in await conn.execute(
            select(uploads.c.id).where(uploads.c.envelope_mid.in_(list(mids)))
        )
    ]
    if not ids:
        return 0
    await conn.execute(delete(upload_parts).where(upload_parts.c.upload_id.in_(ids)))
    await conn.execute(delete(uploads).where(uploads.c.id.in_(ids)))
    return len(ids)


async def expire(conn: AsyncConnection, now: int) -> int:
    """Delete unreferenced uploads past their ``expires_at``, and referenced ones whose envelope
    is past its ``exp`` (nobody can be given the message any more). Returns how many."""
    stale_unbound = select(uploads.c.id).where(
        uploads.c.envelope_mid.is_(None), uploads.c.expires_at <= now
    )
    stale_bound = (
        select(uploads.c.id)
        .join(envelopes, envelopes.c.mid == uploads.c.envelope_mid)
        .where(envelopes.c.exp <= now)
    )
    ids = [r.id for r in await conn.execute(stale_unbound.union(stale_bound))]
    if not ids:
        return 0
    await conn.execute(delete(upload_parts).where(upload_parts.c.upload_id.in_(ids)))
    await conn.execute(delete(uploads).where(and_(uploads.c.id.in_(ids))))
    return len(ids)
