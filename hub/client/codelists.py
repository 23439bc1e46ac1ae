"""The UN/LOCODE list kept in the officer's keys folder, refreshed from the hub with a conditional
GET and searched here.

Why a local copy: the desk and ``pgs read`` meet codes in *decrypted* content; asking the hub
about one of them would tell the hub what a message says. So the whole list is downloaded
(``If-None-Match``: a 304 costs nothing when it has not changed) into ``KEYS/codelists/`` and
every look-up and search happens on the officer's computer (the desk's picker:
hub/desk/places.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Final

import aiohttp

from pgs_hub.hub.client.client import HubClient
from pgs_hub.hub.client.errors import HubClientError
from pgs_hub.protocols import unlocode
from pgs_hub.protocols.unlocode import PlaceList

CACHE_DIR: Final = "codelists"
CACHE_FILE: Final = "unlocode.json.gz"
ETAG_FILE: Final = "unlocode.etag"  # its SHA-256, so a refresh need not hash 100 000 places
NOT_IMPORTED: Final = "codelist.not_imported"

_loaded: dict[Path, tuple[tuple[int, int], PlaceList]] = {}


def cache_path(folder: Path) -> Path:
    return folder / CACHE_DIR / CACHE_FILE


def cached(folder: Path) -> PlaceList | None:
    """The list kept in ``folder`` (None if there is none or it does not read back)."""
    path = cache_path(folder)
    try:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        if path in _loaded and _loaded[path][0] == key:
            return _loaded[path][1]
        places = unlocode.loads(path.read_bytes())
    except (OSError, unlocode.UnlocodeError):
        return None
    _loaded[path] = (key, places)
    return places


def _save(folder: Path, places: PlaceList) -> None:
    path = cache_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".unlocode-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(unlocode.dumps(places))
        os.replace(temporary, path)
        path.with_name(ETAG_FILE).write_text(unlocode.sha256(places) + "\n", encoding="ascii")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _loaded.pop(path, None)


def _etag(folder: Path, held: PlaceList | None) -> str | None:
    if held is None:
        return None
    try:
        return cache_path(folder).with_name(ETAG_FILE).read_text(encoding="ascii").strip()
    except OSError:
        return unlocode.sha256(held)


async def refresh_answered(hub: HubClient, folder: Path) -> tuple[PlaceList | None, bool]:
    """:func:`refresh`, and whether the hub answered (a list, 304 or 404) rather than being out
    of reach or answering something that does not verify (the desk then waits before asking
    again)."""
    held = await asyncio.to_thread(cached, folder)
    try:
        fresh = await hub.unlocode(await asyncio.to_thread(_etag, folder, held))
    except HubClientError as exc:
        return held, exc.code == NOT_IMPORTED
    except (aiohttp.ClientError, TimeoutError, OSError):
        return held, False
    if fresh is None:
        return held, True
    with contextlib.suppress(OSError):  # a read-only keys folder: used, not kept
        await asyncio.to_thread(_save, folder, fresh)
    return fresh, True


async def refresh(hub: HubClient, folder: Path) -> PlaceList | None:
    """The hub's current list, downloaded only if it changed; the copy in ``folder`` when the
    hub has none, cannot be reached or serves something that does not verify (None: no list at
    all). Never raises for a problem of the hub: reading a message goes on without names."""
    return (await refresh_answered(hub, folder))[0]
