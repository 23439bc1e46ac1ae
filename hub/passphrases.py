"""Where the passphrases that protect private keys at rest come from.

Three keys, three variables (never a command-line argument, which ``ps`` and shell history show):

* ``PGS_AUTHORITY_PASSPHRASE`` — the registry authority key (``HOME/authority/``), used by
  ``pgs admin enrol`` and ``pgs admin rotate`` to certify participants;
* ``PGS_HUB_PASSPHRASE`` — the hub's own keys (``HOME/hub-key/``: acceptances and log
  checkpoints), read by ``pgs serve`` at start;
* ``PGS_KEY_PASSPHRASE`` — a participant's key folder (``pgs keygen``; the first admin's keys
  that ``pgs init`` writes).

Each may instead name a file with ``<VARIABLE>_FILE`` (one line; a trailing newline is dropped),
which suits systemd credentials (``LoadCredential=``) and container secrets. The command-line
layer asks on the terminal when neither is set and it runs interactively.
"""

from __future__ import annotations

import os
from pathlib import Path

from pgs_hub.hub.errors import config_error

AUTHORITY = "PGS_AUTHORITY_PASSPHRASE"
HUB = "PGS_HUB_PASSPHRASE"
KEYS = "PGS_KEY_PASSPHRASE"
MIN_LENGTH = 8
MAX_FILE_BYTES = 4096
ENCRYPTED_MARK = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


def from_environment(name: str) -> bytes | None:
    """``$NAME``, else the first line of the file ``$NAME_FILE``, else None."""
    value = os.environ.get(name)
    if value:
        return value.encode("utf-8")
    file_name = os.environ.get(f"{name}_FILE")
    if not file_name:
        return None
    path = Path(file_name)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise config_error("config.passphrase.file_too_large", name=name, path=path)
        text = path.read_bytes()
    except OSError as exc:
        raise config_error(
            "config.passphrase.file_unreadable", name=name, path=path, reason=exc.strerror
        ) from None
    secret = text.rstrip(b"\r\n")
    if not secret:
        raise config_error("config.passphrase.file_empty", name=name, path=path)
    return secret


def check_new(secret: bytes, name: str) -> bytes:
    """A passphrase about to encrypt a new key must not be trivially short."""
    if len(secret) < MIN_LENGTH:
        raise config_error("config.passphrase.too_short", name=name, minimum=MIN_LENGTH)
    return secret


def is_encrypted(pem: bytes) -> bool:
    return ENCRYPTED_MARK in pem


def for_file(pem: bytes, secret: bytes | None) -> bytes | None:
    """The passphrase to open ``pem`` with: ``secret`` if the file is encrypted, else None (a
    plain file opens without one, even when a passphrase is set)."""
    return secret if is_encrypted(pem) else None
