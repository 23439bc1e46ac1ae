"""``pgs-chunked-v1``: known answers, two independent implementations, and tries to break it.

The vectors come from ``tests/vectors/make_chunked_vectors.py``. Besides our streaming classes,
every case is decrypted by :func:`_independent_decrypt` (written from docs/protocol.md §7 on the
bare primitives: HKDF by hand with :mod:`hmac`, one AES-GCM call per chunk on the whole buffer)
and by a Go program using only Go's standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto import chunked
from pgs_hub.crypto.errors import CommitmentError, DecryptionError, InvalidKeyError, MalformedError

VECTORS = Path(__file__).parents[1] / "vectors" / "chunked"
DOC = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
CASES = DOC["cases"]
SMALL = 3 * chunked.CHUNK_SIZE  # property tests stay within a few chunks


def _plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _independent_decrypt(key: bytes, ciphertext: bytes) -> bytes:
    """From the spec, without crypto.chunked: header, commitment, then chunk by chunk."""
    header, body = ciphertext[:56], ciphertext[56:]
    if header[:8] != b"pgsatt1\n":
        raise ValueError("magic")
    okm = _hkdf_sha256(key, header[8:24], b"pgs/1 attachment chunks", 64)
    if not hmac.compare_digest(okm[32:], header[24:]):
        raise ValueError("commitment")
    aead, out, index = AESGCM(okm[:32]), [], 0
    while True:
        last = len(body) <= 65536 + 16
        sealed, body = (body, b"") if last else (body[: 65536 + 16], body[65536 + 16 :])
        nonce = index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out.append(aead.decrypt(nonce, sealed, header))
        index += 1
        if last:
            return b"".join(out)


def _encrypt(key: bytes, data: bytes, piece: int = 10_000, salt: bytes | None = None) -> bytes:
    pieces = [data[i : i + piece] for i in range(0, len(data), piece)]
    return b"".join(chunked.encrypt(key, pieces, salt=salt))


def _decrypt(key: bytes, ciphertext: bytes, piece: int = 7_777) -> bytes:
    pieces = [ciphertext[i : i + piece] for i in range(0, len(ciphertext), piece)]
    return b"".join(chunked.decrypt(key, pieces))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vectors(case: dict[str, object]) -> None:
    key, salt = bytes.fromhex(str(case["key"])), bytes.fromhex(str(case["salt"]))
    plaintext = _plaintext(int(str(case["plaintext_size"])))
    ciphertext = _encrypt(key, plaintext, salt=salt)
    assert len(ciphertext) == case["ciphertext_size"] == chunked.ciphertext_size(len(plaintext))
    assert hashlib.sha256(ciphertext).hexdigest() == case["ciphertext_sha256"]
    assert ciphertext[: chunked.HEADER_SIZE].hex() == case["header"]
    if "ciphertext" in case:
        assert ciphertext.hex() == case["ciphertext"]
    assert _decrypt(key, ciphertext) == plaintext
    assert _independent_decrypt(key, ciphertext) == plaintext
    assert hashlib.sha256(plaintext).hexdigest() == case["plaintext_sha256"]


def test_vectors_against_go() -> None:
    """The Go implementation (standard library only) re-encrypts and decrypts every case, and
    refuses a wrong key and flipped bytes."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed (.ci/run installs golang-go)")
    result = subprocess.run(  # noqa: S603
        [go, "run", "verify.go", "vectors.json"],
        cwd=VECTORS,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {len(CASES)}"


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=SMALL), piece=st.integers(1, 70_000), dpiece=st.integers(1, 70_000))
def test_round_trip_in_any_pieces(data: bytes, piece: int, dpiece: int) -> None:
    key = chunked.new_file_key()
    ciphertext = _encrypt(key, data, piece)
    assert len(ciphertext) == chunked.ciphertext_size(len(data))
    assert _decrypt(key, ciphertext, dpiece) == data
    assert _independent_decrypt(key, ciphertext) == data


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=0, max_size=SMALL), where=st.floats(0, 1), bit=st.integers(0, 7))
def test_a_flipped_bit_anywhere_is_refused(data: bytes, where: float, bit: int) -> None:
    """In the magic, salt, commitment or any chunk, a flipped bit is refused by both readers."""
    key = chunked.new_file_key()
    ciphertext = bytearray(_encrypt(key, data))
    at = min(int(where * len(ciphertext)), len(ciphertext) - 1)
    ciphertext[at] ^= 1 << bit
    with pytest.raises((DecryptionError, CommitmentError, MalformedError)):
        _decrypt(key, bytes(ciphertext))
    with pytest.raises((ValueError, InvalidTag)):
        _independent_decrypt(key, bytes(ciphertext))


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=SMALL), wrong=st.binary(min_size=32, max_size=32))
def test_a_wrong_key_is_refused_by_the_commitment(data: bytes, wrong: bytes) -> None:
    key = chunked.new_file_key()
    ciphertext = _encrypt(key, data)
    with pytest.raises(CommitmentError):
        _decrypt(wrong, ciphertext)
    # Refused from the header alone, before any chunk is read.
    with pytest.raises(CommitmentError):
        chunked.ChunkDecryptor(wrong).update(ciphertext[: chunked.HEADER_SIZE])


@settings(max_examples=30, deadline=None)
@given(data=st.binary(min_size=1, max_size=SMALL), cut=st.floats(0, 1))
def test_truncation_anywhere_is_refused(data: bytes, cut: float) -> None:
    key = chunked.new_file_key()
    ciphertext = _encrypt(key, data)
    end = int(cut * (len(ciphertext) - 1))
    with pytest.raises((DecryptionError, MalformedError)):
        _decrypt(key, ciphertext[:end])


def test_dropping_or_swapping_chunks_is_refused() -> None:
    key = chunked.new_file_key()
    data = _plaintext(3 * chunked.CHUNK_SIZE + 5)
    ct = _encrypt(key, data)
    head, size = ct[: chunked.HEADER_SIZE], chunked.SEALED_CHUNK_SIZE
    c = [
        ct[chunked.HEADER_SIZE + i * size : chunked.HEADER_SIZE + (i + 1) * size] for i in range(4)
    ]
    for name, forged in {
        "last full chunk dropped": head + c[0] + c[1] + c[3],
        "two chunks swapped": head + c[1] + c[0] + c[2] + c[3],
        "stopped at a chunk boundary": head + c[0] + c[1] + c[2],
        "chunk appended": head + c[0] + c[1] + c[2] + c[3] + c[3],
    }.items():
        with pytest.raises(DecryptionError):
            _decrypt(key, forged)
        assert name


def test_a_chunk_from_another_file_is_refused() -> None:
    """The header is every chunk's AAD: the same key with another salt opens nothing."""
    key = chunked.new_file_key()
    one, two = _encrypt(key, b"a" * 100), _encrypt(key, b"a" * 100)
    assert one[: chunked.HEADER_SIZE] != two[: chunked.HEADER_SIZE]
    with pytest.raises(DecryptionError):
        _decrypt(key, one[: chunked.HEADER_SIZE] + two[chunked.HEADER_SIZE :])


def test_an_empty_last_chunk_after_full_ones_is_refused() -> None:
    """Only an empty file has an empty last chunk: an encoder that emitted one is non-canonical."""
    key, salt = bytes(32), bytes(16)
    encryptor = chunked.ChunkEncryptor(key, salt=salt)
    aead = AESGCM(_hkdf_sha256(key, salt, chunked.INFO, 64)[:32])
    header = encryptor.header
    full = aead.encrypt(bytes(12), b"x" * chunked.CHUNK_SIZE, header)
    empty = aead.encrypt((1).to_bytes(11, "big") + b"\x01", b"", header)
    with pytest.raises(DecryptionError, match="empty"):
        _decrypt(key, header + full + empty)


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33)])
def test_keys_of_the_wrong_size_are_refused(bad: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        chunked.ChunkEncryptor(bad)
    with pytest.raises(InvalidKeyError):
        chunked.ChunkDecryptor(bad)


def test_not_a_ciphertext() -> None:
    with pytest.raises(MalformedError):
        _decrypt(bytes(32), b"PK\x03\x04" + bytes(100))
    with pytest.raises(MalformedError):
        _decrypt(bytes(32), b"pgsatt1\n")
