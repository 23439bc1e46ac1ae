"""Chunked, key-committing encryption of attachments: ``pgs-chunked-v1`` (AES-256-GCM, STREAM).

A file is encrypted under a fresh random 32-byte *file key* that travels only inside the signed,
end-to-end encrypted message content; the hub stores the ciphertext as an opaque blob. The scheme
is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, 2015) over AES-256-GCM, as used
by age and C2SP chunked-encryption, built only on pyca/cryptography primitives:

* **Header** (56 bytes): ``MAGIC`` (8 bytes, ``b"pgsatt1\\n"``) ‖ ``salt`` (16 random bytes) ‖
  ``commitment`` (32 bytes).
* **Key schedule**: ``HKDF-SHA256(ikm=file key, salt=salt, info=b"pgs/1 attachment chunks",
  L=64)`` gives ``aead_key`` (first 32 bytes) and ``commitment`` (last 32 bytes). A reader
  recomputes the commitment and refuses a mismatch before decrypting anything: a ciphertext opens
  under one key only (key commitment), which AES-GCM alone does not give.
* **Chunks**: the plaintext is cut into chunks of ``CHUNK_SIZE`` (65,536) bytes; the last one is
  shorter or equal, and is empty only when the whole file is empty. Chunk ``i`` (from 0) is
  ``AES-256-GCM(aead_key, nonce_i, chunk, aad=header)``, 16 bytes longer than its plaintext, with
  ``nonce_i = uint88_be(i) ‖ last`` where ``last`` is ``0x01`` for the final chunk and ``0x00``
  otherwise. The counter makes chunks impossible to reorder or drop; the flag makes truncation at
  a chunk boundary detectable; the header as AAD binds every chunk to its salt and commitment.
* **Ciphertext** = header ‖ chunk 0 ‖ … ‖ chunk n-1, of :func:`ciphertext_size` bytes.

The streaming classes hold at most one chunk (plus what the caller passes in): a 20 MB file is
never in memory twice. No I/O: the callers read and write the bytes.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Iterator
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pgs_hub.crypto.errors import CommitmentError, DecryptionError, InvalidKeyError, MalformedError

__all__ = [
    "CHUNK_SIZE",
    "HEADER_SIZE",
    "KEY_SIZE",
    "MAGIC",
    "SCHEME",
    "ChunkDecryptor",
    "ChunkEncryptor",
    "ciphertext_size",
    "decrypt",
    "encrypt",
    "new_file_key",
]

SCHEME: Final = "pgs-chunked-v1"
MAGIC: Final = b"pgsatt1\n"
KEY_SIZE: Final = 32
SALT_SIZE: Final = 16
COMMITMENT_SIZE: Final = 32
HEADER_SIZE: Final = len(MAGIC) + SALT_SIZE + COMMITMENT_SIZE
CHUNK_SIZE: Final = 64 * 1024
TAG_SIZE: Final = 16
SEALED_CHUNK_SIZE: Final = CHUNK_SIZE + TAG_SIZE
INFO: Final = b"pgs/1 attachment chunks"
MAX_CHUNKS: Final = 2**88 - 1


def new_file_key() -> bytes:
    """A fresh random file key (32 bytes from the operating system's CSPRNG)."""
    return os.urandom(KEY_SIZE)


def ciphertext_size(plaintext_size: int) -> int:
    """The exact size of the ciphertext of a ``plaintext_size``-byte file."""
    if plaintext_size < 0:
        raise ValueError("a size is never negative")
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return HEADER_SIZE + plaintext_size + chunks * TAG_SIZE


def _schedule(key: bytes, salt: bytes) -> tuple[AESGCM, bytes]:
    if len(key) != KEY_SIZE:
        raise InvalidKeyError(f"a file key is {KEY_SIZE} bytes")
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=salt, info=INFO).derive(key)
    return AESGCM(okm[:32]), okm[32:]


def _nonce(index: int, *, last: bool) -> bytes:
    if index > MAX_CHUNKS:  # pragma: no cover - 2**88 chunks is not a file
        raise MalformedError("too many chunks")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class ChunkEncryptor:
    """Encrypt a file given in pieces of any size: :meth:`update` returns the ciphertext ready so
    far (the header first), :meth:`finish` the last chunk. Holds back one chunk, because whether a
    chunk is the last is known only when more plaintext arrives or the input ends."""

    def __init__(self, key: bytes, *, salt: bytes | None = None) -> None:
        self._salt = os.urandom(SALT_SIZE) if salt is None else salt
        if len(self._salt) != SALT_SIZE:
            raise ValueError(f"the salt is {SALT_SIZE} bytes")
        self._aead, commitment = _schedule(key, self._salt)
        self.header = MAGIC + self._salt + commitment
        self._pending = bytearray()
        self._index = 0
        self._started = False
        self._done = False

    def _seal(self, chunk: bytes, *, last: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._index, last=last), chunk, self.header)
        self._index += 1
        return sealed

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise ValueError("finish() was called already")
        out = bytearray()
        if not self._started:
            out += self.header
            self._started = True
        self._pending += data
        # Keep at least one byte back: the chunk holding the input's end is the last one.
        while len(self._pending) > CHUNK_SIZE:
            out += self._seal(bytes(self._pending[:CHUNK_SIZE]), last=False)
            del self._pending[:CHUNK_SIZE]
        return bytes(out)

    def finish(self) -> bytes:
        """The last chunk (an empty file still has one, empty, chunk)."""
        head = self.update(b"")
        self._done = True
        last = self._seal(bytes(self._pending), last=True)
        self._pending.clear()
        return head + last


class ChunkDecryptor:
    """Decrypt a ciphertext given in pieces of any size.

    :meth:`update` returns plaintext of chunks known not to be the last one, each authenticated
    before it is returned; :meth:`finish` authenticates and returns the last chunk and raises if
    the ciphertext was truncated. A wrong key raises :class:`CommitmentError` as soon as the
    header is in; a changed, dropped, reordered or truncated chunk raises
    :class:`DecryptionError`. Callers must not act on returned plaintext until :meth:`finish`
    succeeded (write it to a temporary file, move it in place after).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise InvalidKeyError(f"a file key is {KEY_SIZE} bytes")
        self._key = key
        self._aead: AESGCM | None = None
        self._header = b""
        self._pending = bytearray()
        self._index = 0
        self._done = False

    def _start(self) -> None:
        header = bytes(self._pending[:HEADER_SIZE])
        if header[: len(MAGIC)] != MAGIC:
            raise MalformedError(f"not a {SCHEME} ciphertext")
        salt = header[len(MAGIC) : len(MAGIC) + SALT_SIZE]
        aead, commitment = _schedule(self._key, salt)
        if not hmac.compare_digest(commitment, header[len(MAGIC) + SALT_SIZE :]):
            raise CommitmentError("the file key does not open this attachment")
        self._aead, self._header = aead, header
        del self._pending[:HEADER_SIZE]

    def _open(self, sealed: bytes, *, last: bool) -> bytes:
        assert self._aead is not None  # noqa: S101 - _start ran
        try:
            chunk = self._aead.decrypt(_nonce(self._index, last=last), sealed, self._header)
        except InvalidTag:
            raise DecryptionError(
                f"chunk {self._index} of the attachment is not authentic (changed, reordered "
                "or truncated)"
            ) from None
        self._index += 1
        return chunk

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise ValueError("finish() was called already")
        self._pending += data
        if self._aead is None:
            if len(self._pending) < HEADER_SIZE:
                return b""
            self._start()
        out = bytearray()
        while len(self._pending) > SEALED_CHUNK_SIZE:
            out += self._open(bytes(self._pending[:SEALED_CHUNK_SIZE]), last=False)
            del self._pending[:SEALED_CHUNK_SIZE]
        return bytes(out)

    def finish(self) -> bytes:
        self.update(b"")
        self._done = True
        if self._aead is None:
            raise MalformedError(f"a {SCHEME} ciphertext is at least {HEADER_SIZE} bytes")
        if len(self._pending) < TAG_SIZE:
            raise DecryptionError("the attachment is truncated")
        last = self._open(bytes(self._pending), last=True)
        if not last and self._index > 1:
            raise DecryptionError("the attachment's last chunk is empty (only an empty file's is)")
        return last


def encrypt(key: bytes, pieces: Iterable[bytes], *, salt: bytes | None = None) -> Iterator[bytes]:
    """Ciphertext pieces of the plaintext ``pieces`` (a generator over :class:`ChunkEncryptor`)."""
    encryptor = ChunkEncryptor(key, salt=salt)
    for piece in pieces:
        out = encryptor.update(piece)
        if out:
            yield out
    yield encryptor.finish()


def decrypt(key: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Plaintext pieces of the ciphertext ``pieces``; raises on the first bad chunk, and at the
    end if the ciphertext was truncated (so the last piece comes only from a complete file)."""
    decryptor = ChunkDecryptor(key)
    for piece in pieces:
        out = decryptor.update(piece)
        if out:
            yield out
    yield decryptor.finish()
