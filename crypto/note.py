"""Signed notes (c2sp.org/signed-note) with Ed25519; tlog checkpoints (c2sp.org/tlog-checkpoint).

A signed note is UTF-8 text ending in a newline, a blank line, and one or more lines
``— <key name> base64(key ID || signature)``. The audit log publishes its Merkle root as a
checkpoint note (origin, tree size, root hash), so that auditors, witnesses and the Go tooling of
the transparency-log ecosystem can read and check it without knowing anything else of the hub.

Key strings are the ones the Go ``golang.org/x/mod/sumdb/note`` package reads and writes: a
verifier key ``<name>+<key ID as 8 hex digits>+base64(0x01 || public key)``, and a signer key
``PRIVATE+KEY+<name>+<key ID>+base64(0x01 || seed)``. The key ID is the first four bytes of
SHA-256(name || 0x0A || 0x01 || public key), read as a big-endian number.

Parsing is strict, so that one note has one spelling: besides what the spec requires, base64 must
be canonical, key IDs lower-case hex, and a key (name and ID) may sign a note once. Verification
raises :class:`~crypto.errors.NoteError` subclasses and returns only what was verified. Only
Ed25519 (signature type 0x01) is supported: every other signature is that of an unknown key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from pgs_hub.crypto.errors import (
    CheckpointError,
    CheckpointOriginError,
    InvalidKeyError,
    NoteMalformedError,
    NoteSignatureError,
    NoteUnverifiedError,
)
from pgs_hub.crypto.keys import SigningKey, VerifyKey, require_full_order

ED25519_TYPE = 0x01
ED25519_SIGNATURE_SIZE = 64
ROOT_HASH_SIZE = 32
MAX_TREE_SIZE = 2**64 - 1

MAX_NOTE_BYTES = 256 * 1024
"""Default cap on a whole note: 100 Ed25519 signature lines fit many times over, and so do the 16
post-quantum signatures (about 5 kB each) that the spec asks verifiers to accept."""
MAX_SIGNATURES = 100
"""Default cap on signature lines (the spec's floor is 16; Go's note package also stops at 100)."""
MAX_KEY_STRING = 1024

EM_DASH_SPACE = "\u2014 "
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


def _b64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64_decode(text: str) -> bytes | None:
    """Canonical padded standard base64 (RFC 4648 §4), or None: one spelling per byte string."""
    if len(text) % 4 or not _B64.fullmatch(text):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - excluded by the checks above
        return None
    return data if _b64_encode(data) == text else None


def _is_valid_name(name: str) -> bool:
    """Spec: non-empty, no Unicode spaces, no plus; and no control characters (a note can't hold
    them, and a key string with one could not be written into one)."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() for c in name)
        and not _CONTROL.search(name)
    )


def key_id(name: str, public_key: bytes) -> int:
    """The Ed25519 key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian uint32.

    Binding the name and the signature type into the ID means the same key under another name or
    another algorithm is another key.
    """
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ED25519_TYPE]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


def _require_name(name: str) -> str:
    if not isinstance(name, str) or not _is_valid_name(name):
        raise InvalidKeyError(
            "a key name must be non-empty, without spaces, '+' or control characters"
        )
    return name


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, its key ID and the public key.

    Built only with the key ID that belongs to the name and key, so a verifier can never claim a
    signature line it would not check.
    """

    name: str
    key_id: int
    key: VerifyKey

    def __post_init__(self) -> None:
        _require_name(self.name)
        if self.key_id != key_id(self.name, self.key.raw()):
            raise InvalidKeyError("the key ID does not belong to this name and public key")

    @classmethod
    def for_key(cls, name: str, key: VerifyKey) -> NoteVerifier:
        return cls(_require_name(name), key_id(name, key.raw()), key)

    def encode(self) -> str:
        """The verifier key string ``name+hash+base64(0x01 || key)``, safe to publish."""
        raw = bytes([ED25519_TYPE]) + self.key.raw()
        return f"{self.name}+{self.key_id:08x}+{_b64_encode(raw)}"

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check an Ed25519 signature over the exact note text bytes; raise if it does not hold."""
        if len(signature) != ED25519_SIGNATURE_SIZE:
            raise NoteSignatureError(f"the signature by {self.name} is not an Ed25519 signature")
        try:
            self.key.verify(signature, text)
        except InvalidSignature as exc:
            raise NoteSignatureError(f"the signature by {self.name} does not verify") from exc


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signing key with its name. Its ``repr`` never shows key material."""

    name: str
    key_id: int
    key: SigningKey

    def __post_init__(self) -> None:
        _require_name(self.name)
        if self.key_id != key_id(self.name, self.key.public.raw()):
            raise InvalidKeyError("the key ID does not belong to this name and key")

    @classmethod
    def for_key(cls, name: str, key: SigningKey) -> NoteSigner:
        return cls(_require_name(name), key_id(name, key.public.raw()), key)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.key_id, self.key.public)

    def encode(self) -> str:
        """The signer key string ``PRIVATE+KEY+name+hash+base64(0x01 || seed)``: a secret."""
        seed = self.key.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        raw = bytes([ED25519_TYPE]) + seed
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{_b64_encode(raw)}"

    def signature_line(self, text: bytes) -> str:
        """``— name base64(key ID || signature)\\n`` over the exact text bytes."""
        blob = self.key_id.to_bytes(4, "big") + self.key.sign(text)
        return f"{EM_DASH_SPACE}{self.name} {_b64_encode(blob)}\n"

    def __repr__(self) -> str:
        return f"NoteSigner(name={self.name!r}, key_id={self.key_id:08x})"


def _split_key_string(text: str, what: str) -> tuple[str, int, bytes]:
    """``name+hash+base64`` into its parts; the 32-byte key after the 0x01 type byte."""
    if not isinstance(text, str) or len(text) > MAX_KEY_STRING:
        raise InvalidKeyError(f"the {what} is not a key string")
    parts = text.split("+", 2)  # the name has no '+'; the base64 may
    if len(parts) != 3 or not _KEY_ID.fullmatch(parts[1]):
        raise InvalidKeyError(f"the {what} is not name+hash+key with 8 lower-case hex digits")
    name = _require_name(parts[0])
    raw = _b64_decode(parts[2])
    if raw is None:
        raise InvalidKeyError(f"the {what} key is not canonical standard base64")
    if len(raw) != 33 or raw[0] != ED25519_TYPE:
        raise InvalidKeyError(f"the {what} is not an Ed25519 (type 0x01) key")
    return name, int(parts[1], 16), raw[1:]


def verifier_key(name: str, key: VerifyKey) -> str:
    """The verifier key string for ``key`` under ``name``."""
    return NoteVerifier.for_key(name, key).encode()


def parse_verifier_key(text: str) -> NoteVerifier:
    """Read a verifier key string; the key ID must be the one computed from name and key."""
    name, kid, raw = _split_key_string(text, "verifier key")
    try:
        public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - 32 bytes always load
        raise InvalidKeyError("the verifier key is not an Ed25519 public key") from exc
    verifier = NoteVerifier(name, kid, VerifyKey.from_public(public))  # checks the key ID first
    require_full_order("Ed25519", raw, what="the verifier key")
    return verifier


def signer_key(name: str, key: SigningKey) -> str:
    """The signer key string (holds the private key in the clear: write it only where asked)."""
    return NoteSigner.for_key(name, key).encode()


def parse_signer_key(text: str) -> NoteSigner:
    """Read a signer key string; the key ID must match the public key derived from the seed."""
    if not isinstance(text, str) or not text.startswith(_PRIVATE_PREFIX):
        raise InvalidKeyError("a signer key starts with PRIVATE+KEY+")
    name, kid, seed = _split_key_string(text[len(_PRIVATE_PREFIX) :], "signer key")
    private = SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    return NoteSigner(name, kid, private)


# --- notes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures verified, and those of keys not trusted here."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _check_text(text: str, error: type[NoteMalformedError] | type[CheckpointError]) -> None:
    if not text.endswith("\n"):
        raise error("the note text must end with a newline")
    if _CONTROL.search(text):
        raise error("the note text holds a control character other than newline")


def sign_note(text: str, name: str, key: SigningKey) -> bytes:
    """Sign ``text`` (which must end in a newline) as ``name``; return the whole note as bytes.

    The text may contain empty lines: a reader splits at the last blank line, and the signature
    lines never contain one.
    """
    if not isinstance(text, str):
        raise NoteMalformedError("the note text must be a string")
    _check_text(text, NoteMalformedError)
    body = text.encode("utf-8")
    note = body + b"\n" + NoteSigner.for_key(name, key).signature_line(body).encode("utf-8")
    if len(note) > MAX_NOTE_BYTES:
        raise NoteMalformedError(f"the note would be longer than {MAX_NOTE_BYTES} bytes")
    return note


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(EM_DASH_SPACE):
        raise NoteMalformedError("a signature line does not start with an em dash and a space")
    name, space, encoded = line[len(EM_DASH_SPACE) :].partition(" ")
    if not space or not _is_valid_name(name):
        raise NoteMalformedError("a signature line does not start with a valid key name")
    blob = _b64_decode(encoded)
    if blob is None or len(blob) < 5:
        raise NoteMalformedError(f"the signature by {name} is not canonical base64 of 5+ bytes")
    return NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:])


def _trusted(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    """Trusted keys by (name, key ID). Two distinct keys cannot share both: the ID is a hash of
    the name and the key, and a :class:`NoteVerifier` is only built with its own ID."""
    return {(verifier.name, verifier.key_id): verifier for verifier in verifiers}


def open_note(
    data: bytes,
    verifiers: Iterable[NoteVerifier],
    *,
    max_bytes: int = MAX_NOTE_BYTES,
    max_signatures: int = MAX_SIGNATURES,
) -> Note:
    """Parse a signed note and verify the signatures of the trusted keys among ``verifiers``.

    Signatures of unknown keys (another name or another key ID) are kept as unverified, as the
    spec requires; a signature of a trusted key that fails rejects the note; at least one trusted
    signature must verify. The whole note is parsed before any signature is checked, so a
    malformed note is reported as malformed whatever its signatures.
    """
    trusted = _trusted(verifiers)
    if not isinstance(data, bytes):
        raise NoteMalformedError("a note is bytes")
    if len(data) > max_bytes:
        raise NoteMalformedError(f"the note is longer than {max_bytes} bytes")
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteMalformedError("the note is not valid UTF-8") from exc
    if _CONTROL.search(decoded):
        raise NoteMalformedError("the note holds a control character other than newline")
    split = data.rfind(b"\n\n")
    if split < 0:
        raise NoteMalformedError("no blank line separates the text from the signatures")
    text, block = data[: split + 1], data[split + 2 :]
    if not block.endswith(b"\n"):
        raise NoteMalformedError("the signature lines must end with a newline")
    lines = block[:-1].decode("utf-8").split("\n")
    if len(lines) > max_signatures:
        raise NoteMalformedError(f"the note has more than {max_signatures} signatures")
    signatures = [_parse_signature_line(line) for line in lines]
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        if (sig.name, sig.key_id) in seen:
            raise NoteMalformedError(f"the key {sig.name}+{sig.key_id:08x} signs the note twice")
        seen.add((sig.name, sig.key_id))
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in signatures:
        verifier = trusted.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
            continue
        verifier.verify(text, sig.signature)
        verified.append(sig)
    if not verified:
        raise NoteUnverifiedError("no signature on the note is by a trusted key")
    return Note(text.decode("utf-8"), tuple(verified), tuple(unverified))


# --- checkpoints -------------------------------------------------------------------------------


def _check_line(value: str, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise CheckpointError(f"the checkpoint {what} must be a non-empty string")
    if "\n" in value or _CONTROL.search(value):
        raise CheckpointError(f"the checkpoint {what} must be one line without control characters")


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its tree: origin, size and RFC 6962/9162 root hash.

    The origin names the log; the spec recommends a schema-less URL without spaces or '+', but a
    client must accept any non-empty line (the Go checksum database's is "go.sum database tree").
    Extension lines are opaque, non-empty, and not recommended.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError("the checkpoint tree size must be an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("the checkpoint tree size must be from 0 to 2**64 - 1")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_HASH_SIZE:
            raise CheckpointError(f"the checkpoint root hash must be {ROOT_HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise CheckpointError("the checkpoint extension lines must be a tuple")
        for line in self.extensions:
            _check_line(line, "extension line")

    def to_note_text(self) -> str:
        """Origin, decimal size, base64 root and extension lines, each ending in a newline."""
        lines = [self.origin, str(self.size), _b64_encode(self.root), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint note text in its one strict form.

    At least three lines, each ending in a newline; a non-empty origin; the size in decimal without
    leading zeros and below 2**64; the root hash as canonical padded base64 of 32 bytes; extension
    lines non-empty.
    """
    if not isinstance(text, str):
        raise CheckpointError("a checkpoint is text")
    _check_text(text, CheckpointError)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size_text, root_text, *extensions = lines
    if not _TREE_SIZE.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError("the tree size is not a decimal number below 2**64 without zeros")
    root = _b64_decode(root_text)
    if root is None or len(root) != ROOT_HASH_SIZE:
        raise CheckpointError("the root hash is not canonical base64 of 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: SigningKey) -> bytes:
    """The signed note of ``checkpoint`` (the spec recommends ``name`` equal to the origin)."""
    return sign_note(checkpoint.to_note_text(), name, key)


def verify_checkpoint(
    data: bytes, verifier: NoteVerifier, *, origin: str | None = None
) -> Checkpoint:
    """Open a checkpoint note signed by ``verifier`` and check that it is of the expected log.

    ``origin`` defaults to the verifier's key name (the usual case, and the hub's); a log whose key
    name differs from its origin, such as sum.golang.org, is checked with an explicit ``origin``.
    Signatures of other keys (witness cosignatures) are ignored here.
    """
    note = open_note(data, [verifier])
    checkpoint = parse_checkpoint(note.text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise CheckpointOriginError(
            f"the checkpoint is of {checkpoint.origin!r}, not of {expected!r}"
        )
    return checkpoint
