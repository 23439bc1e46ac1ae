"""Uploads that a later run of ``pgs send --attach`` resumes: one small file per attachment and
hub, under ``KEYS/pending-uploads/``, named by the hash of the hub URL and of the file's content.

It holds the upload id and the file key and salt the file was encrypted with, so that the next
run encrypts the very same ciphertext again and goes on from the hub's offset instead of sending
every byte again over a slow link. The file key opens that one attachment, so the state lives
with the private keys (same folder, mode 0600) and is removed once the message is sent or
refused. A state whose upload the hub no longer has (expired) is simply replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import CryptoError

FOLDER = "pending-uploads"
PIECE = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's content (blocking: run it in a thread)."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while piece := source.read(PIECE):
            digest.update(piece)
    return digest.hexdigest()


@dataclass(frozen=True)
class PendingUpload:
    """An upload begun by an earlier run: where to find it, and how to encrypt the file again."""

    path: Path
    upload_id: str
    key: bytes
    salt: bytes
    ciphertext_sha256: str

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def state_path(key_folder: Path, hub_url: str, content_sha256: str) -> Path:
    name = hashlib.sha256(f"{hub_url.rstrip('/')}\n{content_sha256}".encode()).hexdigest()
    return key_folder / FOLDER / f"{name[:32]}.json"


def load(path: Path) -> PendingUpload | None:
    """The state at ``path``, or None if there is none (or it is unreadable: start afresh)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return PendingUpload(
            path=path,
            upload_id=str(doc["upload"]),
            key=b64u_decode(str(doc["key"])),
            salt=b64u_decode(str(doc["salt"])),
            ciphertext_sha256=str(doc["ciphertext_sha256"]),
        )
    except (OSError, ValueError, KeyError, TypeError, CryptoError):
        return None


def save(path: Path, upload_id: str, key: bytes, salt: bytes, ciphertext_sha256: str) -> None:
    """Write the state atomically, readable by its owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    doc = {
        "upload": upload_id,
        "key": b64u_encode(key),
        "salt": b64u_encode(salt),
        "ciphertext_sha256": ciphertext_sha256,
    }
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(doc, out)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
