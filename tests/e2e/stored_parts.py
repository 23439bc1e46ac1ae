"""What a running hub stored of an upload, read from its database and, on SQLite, from the part
files its rows name: for tests that check the bytes kept, not only the answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pgs_hub.hub.storage import blobs
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import upload_parts
from tests.e2e.harness import RunningHub


@dataclass(frozen=True)
class StoredPart:
    position: int
    data: bytes  # the row's own bytes (PostgreSQL keeps them there; b"" on SQLite)
    file: str | None  # the part's file, named by the row (SQLite)
    content: bytes  # the part's bytes, wherever they are kept


async def stored_parts(hub: RunningHub, upload: str) -> list[StoredPart]:
    """The stored parts of ``upload``, in order."""
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(upload_parts.c.position, upload_parts.c.data, upload_parts.c.file)
                    .where(upload_parts.c.upload_id == upload)
                    .order_by(upload_parts.c.position)
                )
            ).all()
        files = blobs.part_files(engine)
    finally:
        await engine.dispose()
    return [
        StoredPart(
            r.position,
            bytes(r.data),
            r.file,
            bytes(r.data) if files is None else files.path(upload, r.file).read_bytes(),
        )
        for r in rows
    ]
