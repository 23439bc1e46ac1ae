"""Generate the ``pgs-chunked-v1`` attachment vectors (tests/vectors/chunked/vectors.json).

Keys and salts are derived from fixed labels and plaintexts follow a fixed rule (byte ``i`` is
``i % 251``), so running this again reproduces the same file. The keys are PUBLIC TEST KEYS.

Run: ``.venv/bin/python tests/vectors/make_chunked_vectors.py``. ``tests/crypto/test_chunked.py``
checks our implementation against the file and decrypts every case with two independent
implementations written from docs/protocol.md §7: one in Python on the bare primitives, one in Go
(``tests/vectors/chunked/verify.go``, standard library only).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pgs_hub.crypto import chunked

HERE = Path(__file__).parent / "chunked"
SIZES = {
    "empty file": 0,
    "one byte": 1,
    "one chunk less one byte": chunked.CHUNK_SIZE - 1,
    "exactly one chunk": chunked.CHUNK_SIZE,
    "one chunk and one byte": chunked.CHUNK_SIZE + 1,
    "three chunks, the last partial": 2 * chunked.CHUNK_SIZE + 1000,
}
INLINE = 4096  # ciphertexts up to this size are written out in full


def plaintext(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def derived(label: str, n: int) -> bytes:
    return hashlib.sha256(f"pgs-chunked-v1 test {label}".encode()).digest()[:n]


def cases() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for name, size in SIZES.items():
        key, salt = derived(f"key {name}", 32), derived(f"salt {name}", 16)
        ciphertext = b"".join(chunked.encrypt(key, [plaintext(size)], salt=salt))
        assert len(ciphertext) == chunked.ciphertext_size(size)
        case: dict[str, object] = {
            "name": name,
            "key": key.hex(),
            "salt": salt.hex(),
            "plaintext_size": size,
            "plaintext_sha256": hashlib.sha256(plaintext(size)).hexdigest(),
            "header": ciphertext[: chunked.HEADER_SIZE].hex(),
            "ciphertext_size": len(ciphertext),
            "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        }
        if len(ciphertext) <= INLINE:
            case["ciphertext"] = ciphertext.hex()
        out.append(case)
    return out


def main() -> None:
    HERE.mkdir(exist_ok=True)
    doc = {
        "scheme": chunked.SCHEME,
        "chunk_size": chunked.CHUNK_SIZE,
        "plaintext_rule": "byte i of the plaintext is i % 251",
        "cases": cases(),
    }
    (HERE / "vectors.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(doc['cases'])} cases to {HERE / 'vectors.json'}")


if __name__ == "__main__":
    main()
