"""Refusing to serve a rolled-back audit log.

A database restored from an older backup holds an older log: entries that clients and auditors
have seen, and checkpoints they hold, are gone. Serving it would show them a fork. So the hub
keeps, outside the database, the latest checkpoint it signed (``HOME/log-high-water.note``, the
signed note itself, written atomically after each new checkpoint), and at start-up — and when
``pgs admin restore`` has put a backup in place — checks that the stored tree extends it, and
extends every checkpoint the operator hands over from clients or witnesses (``--checkpoint FILE``:
a signed checkpoint note, or a ``pgs audit verify`` state file). Those checkpoints must carry this
hub's log signature: an unsigned claim proves nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import consistency_plan, verify_consistency
from pgs_hub.crypto.note import (
    Checkpoint,
    NoteVerifier,
    parse_verifier_key,
    verifier_key,
    verify_checkpoint,
)
from pgs_hub.hub.errors import ConfigError, config_error
from pgs_hub.hub.storage import log

HIGH_WATER_FILE = "log-high-water.note"
MAX_FILE_BYTES = 16 << 20


class LogRolledBack(ConfigError):
    """The stored log does not extend a checkpoint this hub signed: refuse to serve it."""

    code = "log.rolled_back"


@dataclass(frozen=True)
class HeldCheckpoint:
    checkpoint: Checkpoint
    source: str  # where it came from, for the message


def high_water_path(home: Path) -> Path:
    return home / HIGH_WATER_FILE


def _size_of(path: Path, verifier: NoteVerifier) -> int:
    try:
        return verify_checkpoint(path.read_bytes(), verifier).size
    except (OSError, CryptoError):
        return -1


def raise_high_water(path: Path, note: str, size: int, verifier: NoteVerifier) -> None:
    """Record ``note`` (a checkpoint of ``size``) unless a larger one is recorded already.

    Several hub processes may share a home: a lock file orders them, and the note is written to
    a temporary file and renamed, so a crash never leaves half a note."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _size_of(path, verifier) >= size:
            return
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as sink:
                sink.write(note)
                sink.flush()
                os.fsync(sink.fileno())
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise


def read_held(path: Path, verifier: NoteVerifier) -> list[HeldCheckpoint]:
    """The checkpoints of this log in ``path``: a signed note, or the JSON state file of
    ``pgs audit verify`` (its checkpoints for this log's origin). Each must verify under the
    log key; anything else is a ConfigError that says what is wrong."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise config_error("config.held.too_large", path=path)
        data = path.read_bytes()
    except OSError as exc:
        raise config_error("config.held.unreadable", path=path, reason=exc.strerror) from None
    notes: list[bytes] = []
    if data.lstrip().startswith(b"{"):
        try:
            doc = json.loads(data)
            logs = doc["logs"].values()
        except (ValueError, KeyError, AttributeError, TypeError):
            raise config_error("config.held.not_checkpoint", path=path) from None
        notes = [
            str(item["checkpoint"]).encode("utf-8")
            for item in logs
            if isinstance(item, dict)
            and item.get("origin") == verifier.name
            and isinstance(item.get("checkpoint"), str)
        ]
        if not notes:
            raise config_error("config.held.none_of_log", path=path, log=verifier.name)
    else:
        notes = [data]
    held = []
    for note in notes:
        try:
            held.append(HeldCheckpoint(verify_checkpoint(note, verifier), str(path)))
        except CryptoError as exc:
            raise config_error("config.held.not_signed", path=path, reason=exc) from None
    return held


def held_checkpoints(home: Path, verifier: NoteVerifier, extra: list[Path]) -> list[HeldCheckpoint]:
    """The high-water mark (if any) and the checkpoints in the ``extra`` files."""
    found: list[HeldCheckpoint] = []
    mark = high_water_path(home)
    if mark.exists():
        found += [
            HeldCheckpoint(h.checkpoint, f"the hub's high-water mark {mark}")
            for h in read_held(mark, verifier)
        ]
    for path in extra:
        found += read_held(path, verifier)
    return found


async def check_not_rolled_back(engine: AsyncEngine, held: list[HeldCheckpoint]) -> int:
    """Raise :class:`LogRolledBack` unless the stored tree extends every held checkpoint;
    returns the stored tree's size."""
    async with engine.connect() as conn:
        tree = await log.state(conn)
        for item in held:
            cp = item.checkpoint
            if cp.size > tree.size:
                raise LogRolledBack.keyed(
                    "config.held.rolled_back", size=tree.size, source=item.source, held=cp.size
                )
            if cp.size == 0:
                continue
            if cp.size == tree.size:
                consistent = cp.root == tree.root()
            else:
                plan = consistency_plan(cp.size, tree.size)
                try:
                    proof = plan.assemble(await log.nodes(conn, plan.nodes))
                    verify_consistency(cp.size, tree.size, proof, cp.root, tree.root())
                    consistent = True
                except CryptoError:  # a failed proof, or subtrees missing from the database
                    consistent = False
            if not consistent:
                raise LogRolledBack.keyed(
                    "config.held.another_log", size=tree.size, source=item.source, held=cp.size
                )
        await conn.rollback()
    return tree.size


def log_verifier(origin: str, key: SigningKey) -> NoteVerifier:
    """The verifier of this hub's checkpoints (what ``pgs audit key`` prints)."""
    return parse_verifier_key(verifier_key(origin, key.public))
