"""Code lists the hub serves whole: the UN/LOCODE list an operator imported from UNECE's release.

Stored in the hub's home (``codelists/unlocode.json.gz``, the canonical form of
:mod:`protocols.unlocode`), written atomically by ``pgs admin codelists import-unlocode`` and read
by every hub process on that home when it changes (no migration: it is reference data, not
participant data). Served only as the *whole* list, with the SHA-256 of its canonical JSON as
ETag: clients search it locally, so the hub never learns which places a message names.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import NotFound
from pgs_hub.hub.policy.authorize import Action
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.protocols import unlocode

CODELISTS_DIR: Final = "codelists"
UNLOCODE_FILE: Final = "unlocode.json.gz"


def unlocode_path(home: Path) -> Path:
    return home / CODELISTS_DIR / UNLOCODE_FILE


@dataclass(frozen=True)
class StoredList:
    """The stored list as served: its canonical bytes, their ETag (SHA-256 of the canonical JSON)
    and what it is."""

    body: bytes
    etag: str
    version: str
    date: str
    count: int


def store_unlocode(home: Path, places: unlocode.PlaceList) -> StoredList:
    """Write the canonical list into ``home`` atomically (a temporary file beside it, flushed,
    then renamed): a hub reading it sees the old list or the new one, never half of one."""
    body = unlocode.dumps(places)
    target = unlocode_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".unlocode-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return StoredList(
        body, unlocode.sha256(places), places.version, places.date, len(places.places)
    )


_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], StoredList]] = {}


def read_stored(path: Path) -> StoredList | None:
    """The list at ``path`` (None if none was imported), read again only when the file changed;
    a list that does not read back is not served (an error, not a wrong list)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
    body = path.read_bytes()
    places = unlocode.loads(body)
    stored = StoredList(
        body, unlocode.sha256(places), places.version, places.date, len(places.places)
    )
    with _lock:
        _cache[path] = (key, stored)
    return stored


async def unlocode_list(ctx: HubContext, reader: Member) -> StoredList:
    """The whole UN/LOCODE list, for any active participant (``codelists.read``)."""
    await authorize(ctx, reader, Action.CODELISTS)
    stored = (
        await asyncio.to_thread(read_stored, unlocode_path(ctx.home))
        if ctx.home is not None
        else None
    )
    if stored is None:
        raise NotFound(
            "this hub has no UN/LOCODE list yet (its operator imports UNECE's release with"
            " `pgs admin codelists import-unlocode`)",
            code=Code.CODELIST_NOT_IMPORTED,
        )
    return stored
