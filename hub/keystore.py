"""A participant's keys on disk: one folder per participant.

Layout (all written by ``pgs keygen``)::

    participant.json     {"id": "NG-NCP-LAGOS"}
    signing.key.pem      Ed25519, PKCS#8 PEM (encrypted when a passphrase was given)
    encryption.key.pem   X25519, PKCS#8 PEM (idem)
    public.jwks.json     both public keys as an RFC 7517/8037 JWK Set, safe to share
    retired/KID/         keys replaced by a rotation (``pgs key rotate``): the old encryption key
                         still opens messages sent before the rotation

Private key files are created with mode 0600 and never overwritten silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pgs_hub.crypto.keys import (
    DecryptionKey,
    KeySet,
    RecipientKey,
    SigningKey,
    VerifyKey,
    load_private_pem,
    private_pem,
    public_keys_from_jwks,
)
from pgs_hub.crypto.strictjson import loads as strict_loads
from pgs_hub.protocols.routing import Addressee

PARTICIPANT_FILE = "participant.json"
SIGNING_FILE = "signing.key.pem"
ENCRYPTION_FILE = "encryption.key.pem"
PUBLIC_FILE = "public.jwks.json"
RETIRED_DIR = "retired"
MAX_KEY_FILE_BYTES = 64 * 1024


class KeyStoreError(Exception):
    """A key folder is missing, incomplete or unreadable; the message says which file."""

    code = "keystore.error"


@dataclass(frozen=True)
class LocalParticipant:
    """A participant id with its private keys, loaded from a key folder."""

    id: str
    keys: KeySet
    retired: tuple[DecryptionKey, ...] = ()

    def decryption_key(self, kid: str) -> DecryptionKey | None:
        """The current or a retired encryption key with id ``kid``."""
        return next((k for k in (self.decryption, *self.retired) if k.kid == kid), None)

    @property
    def signing(self) -> SigningKey:
        return self.keys.signing

    @property
    def decryption(self) -> DecryptionKey:
        return self.keys.decryption


@dataclass(frozen=True)
class PublicParticipant:
    """A participant id with the public keys others use to verify and encrypt to it."""

    id: str
    verify: VerifyKey
    encrypt: RecipientKey


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def create(folder: Path, participant: str, passphrase: bytes | None) -> LocalParticipant:
    """Generate a key set for ``participant`` in a new (or empty) ``folder``."""
    Addressee(id=participant, kid="A" * 43)  # validates the participant id's form
    folder.mkdir(parents=True, exist_ok=True)
    existing = [name for name in (SIGNING_FILE, ENCRYPTION_FILE) if (folder / name).exists()]
    if existing:
        raise KeyStoreError(f"{folder} already holds keys ({', '.join(existing)}); not overwriting")
    keys = KeySet.generate()
    _write_private(folder / SIGNING_FILE, private_pem(keys.signing, passphrase))
    _write_private(folder / ENCRYPTION_FILE, private_pem(keys.decryption, passphrase))
    (folder / PUBLIC_FILE).write_text(json.dumps(keys.public_jwks(), indent=2) + "\n")
    (folder / PARTICIPANT_FILE).write_text(json.dumps({"id": participant}) + "\n")
    return LocalParticipant(participant, keys)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_FILE_BYTES:
            raise KeyStoreError(f"{path} is too large to be a key file")
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyStoreError(f"{path} does not exist") from None


def participant_id(folder: Path) -> str:
    data = strict_loads(
        _read(folder / PARTICIPANT_FILE).strip(), what=PARTICIPANT_FILE, max_bytes=4096
    )
    pid = data.get("id")
    if not isinstance(pid, str):
        raise KeyStoreError(f"{folder / PARTICIPANT_FILE} has no participant id")
    return pid


def is_encrypted(folder: Path) -> bool:
    return b"ENCRYPTED PRIVATE KEY" in _read(folder / SIGNING_FILE)


def _load_pair(folder: Path, passphrase: bytes | None) -> KeySet:
    signing = load_private_pem(_read(folder / SIGNING_FILE), passphrase)
    decryption = load_private_pem(_read(folder / ENCRYPTION_FILE), passphrase)
    if not isinstance(signing, SigningKey) or not isinstance(decryption, DecryptionKey):
        raise KeyStoreError(f"{folder} has its signing and encryption keys mixed up")
    return KeySet(signing, decryption)


def load(folder: Path, passphrase: bytes | None) -> LocalParticipant:
    """Load a key folder written by :func:`create` (with its retired keys, if any)."""
    keys = _load_pair(folder, passphrase)
    retired_root = folder / RETIRED_DIR
    retired = (
        tuple(
            _load_pair(sub, passphrase).decryption
            for sub in sorted(retired_root.iterdir())
            if sub.is_dir()
        )
        if retired_root.is_dir()
        else ()
    )
    return LocalParticipant(participant_id(folder), keys, retired)


def rotate(folder: Path, passphrase: bytes | None) -> LocalParticipant:
    """Replace a folder's keys with new ones, keeping the old pair under ``retired/<old enc kid>``.

    The new public keys must then be certified and installed on the hub (``pgs admin rotate``).
    """
    current = load(folder, passphrase)
    archive = folder / RETIRED_DIR / current.decryption.kid
    archive.mkdir(parents=True, exist_ok=False)
    for name in (SIGNING_FILE, ENCRYPTION_FILE, PUBLIC_FILE):
        (folder / name).rename(archive / name)
    (archive / PARTICIPANT_FILE).write_text(json.dumps({"id": current.id}) + "\n")
    keys = KeySet.generate()
    _write_private(folder / SIGNING_FILE, private_pem(keys.signing, passphrase))
    _write_private(folder / ENCRYPTION_FILE, private_pem(keys.decryption, passphrase))
    (folder / PUBLIC_FILE).write_text(json.dumps(keys.public_jwks(), indent=2) + "\n")
    return load(folder, passphrase)


def load_public(path: Path, participant: str) -> PublicParticipant:
    """Load a participant's public JWK Set (one Ed25519 and one X25519 key)."""
    jwks = strict_loads(_read(path).strip(), what=path.name, max_bytes=MAX_KEY_FILE_BYTES)
    verify, encrypt = public_keys_from_jwks(jwks)
    if len(verify) != 1 or len(encrypt) != 1:
        raise KeyStoreError(f"{path} must hold exactly one Ed25519 and one X25519 public key")
    return PublicParticipant(participant, verify[0], encrypt[0])


class Directory:
    """Public keys of other participants, from a folder of ``<participant>.jwks.json`` files.

    This is the offline directory; the hub's certified directory replaces it when connected.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, participant: str) -> PublicParticipant:
        Addressee(id=participant, kid="A" * 43)  # refuses path tricks like "../x"
        return load_public(self.folder / f"{participant}.jwks.json", participant)

    def publish(self, participant: str, jwks_json: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{participant}.jwks.json"
        path.write_text(jwks_json)
        return path
