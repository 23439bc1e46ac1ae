"""Ed25519 verification through libsodium first (``crypto.ed25519_verify``): the accepted set is
still exactly OpenSSL's.

* On every Wycheproof Ed25519 vector with a 64-byte signature, libsodium alone, OpenSSL alone and
  :meth:`VerifyKey.verify` give the vector's result.
* A signature OpenSSL accepts and libsodium refuses (the identity point as the key) is accepted:
  OpenSSL's verdict stands.
* Random keys, messages and corruptions: :meth:`VerifyKey.verify` refuses exactly when OpenSSL
  does, and libsodium never accepts what OpenSSL refuses.
* A valid signature is answered by libsodium alone (a key object that OpenSSL would refuse with is
  never asked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto import ed25519_verify
from pgs_hub.crypto.keys import SigningKey, VerifyKey

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "wycheproof" / "ed25519_test.json"
IDENTITY = bytes([1]) + bytes(31)  # the neutral point's encoding: a key of small order


def _openssl_accepts(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _ours_accepts(public: bytes, signature: bytes, message: bytes) -> bool:
    key = VerifyKey.from_public(ed25519.Ed25519PublicKey.from_public_bytes(public))
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _wycheproof_cases() -> list[Any]:
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [
        pytest.param(group["publicKey"]["pk"], test, id=f"tc{test['tcId']}-{test['result']}")
        for group in data["testGroups"]
        for test in group["tests"]
        if len(test["sig"]) == 2 * ed25519_verify.SIGNATURE_BYTES
    ]


WYCHEPROOF = _wycheproof_cases()


def test_the_vectors_hold_both_verdicts() -> None:
    results = {test.values[1]["result"] for test in WYCHEPROOF}
    assert results == {"valid", "invalid"}


@pytest.mark.parametrize(("public_hex", "test"), WYCHEPROOF)
def test_wycheproof_all_three_agree(public_hex: str, test: dict[str, Any]) -> None:
    public = bytes.fromhex(public_hex)
    signature, message = bytes.fromhex(test["sig"]), bytes.fromhex(test["msg"])
    expected = test["result"] == "valid"
    assert ed25519_verify.sodium_accepts(public, signature, message) is expected
    assert _openssl_accepts(public, signature, message) is expected
    assert _ours_accepts(public, signature, message) is expected


def test_what_only_openssl_accepts_is_accepted() -> None:
    """R the identity and S zero: [0]B = R + [k]A holds for the identity key, whatever the
    message. libsodium refuses a key of small order; OpenSSL's verdict (accept) stands."""
    signature = IDENTITY + bytes(32)
    assert not ed25519_verify.sodium_accepts(IDENTITY, signature, b"any message")
    assert _openssl_accepts(IDENTITY, signature, b"any message")
    assert _ours_accepts(IDENTITY, signature, b"any message")


def test_a_valid_signature_is_answered_by_libsodium_alone() -> None:
    signer = SigningKey.generate()
    other = SigningKey.generate().public.key  # OpenSSL would refuse under this key
    message = b"x" * 6000
    signature = signer.sign(message)
    ed25519_verify.verify(other, signer.public.raw(), signature, message)  # libsodium's yes
    with pytest.raises(InvalidSignature):  # libsodium's no, then OpenSSL's under `other`
        ed25519_verify.verify(other, signer.public.raw(), bytes(64), message)


def test_wrong_lengths_are_refused_before_libsodium() -> None:
    signer = SigningKey.generate()
    signature = signer.sign(b"m")
    for bad in (signature[:63], signature + b"\0", b""):
        assert not ed25519_verify.sodium_accepts(signer.public.raw(), bad, b"m")
        with pytest.raises(InvalidSignature):
            signer.public.verify(bad, b"m")


_KEYS = [SigningKey.generate() for _ in range(4)]


@settings(max_examples=300, deadline=None)
@given(
    key_index=st.integers(0, len(_KEYS) - 1),
    message=st.binary(max_size=300),
    target=st.sampled_from(["none", "signature", "message", "key"]),
    position=st.integers(0, 10_000),
    flip=st.integers(1, 255),
)
def test_random_corruptions_keep_openssls_verdict(
    key_index: int, message: bytes, target: str, position: int, flip: int
) -> None:
    signer = _KEYS[key_index]
    public, signature = signer.public.raw(), signer.sign(message)

    def corrupt(data: bytes) -> bytes:
        if not data:
            return b"\x01"
        i = position % len(data)
        return data[:i] + bytes([data[i] ^ flip]) + data[i + 1 :]

    if target == "signature":
        signature = corrupt(signature)
    elif target == "message":
        message = corrupt(message)
    elif target == "key":
        public = corrupt(public)
    openssl = _openssl_accepts(public, signature, message)
    assert openssl is (target == "none")
    assert _ours_accepts(public, signature, message) is openssl
    assert not ed25519_verify.sodium_accepts(public, signature, message) or openssl
