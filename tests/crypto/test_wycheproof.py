"""Project Wycheproof vectors (``tests/vectors/wycheproof/``), through our code where it exists.

* Ed25519: every vector through ``crypto.jws`` (64-byte signatures through ``jws.verify``, other
  lengths through ``jws.parse``, which must refuse them before any verification).
* X25519: every vector through ``crypto.jwe._agree``. Wycheproof marks some vectors "acceptable"
  (RFC 7748 lets an implementation accept or refuse them). Our policy, which the test pins:
  an all-zero shared secret (a low-order public key) is refused with ``InvalidKeyError``; every
  other acceptable vector (twist points, non-canonical u-coordinates, ...) is accepted and must
  give exactly the vector's shared secret.
* AES-256-GCM (96-bit IV, 128-bit tag): every vector with ``cryptography``'s AESGCM, called as
  ``crypto.jwe`` calls it; the vectors whose AAD is ASCII (ours always is: the protected header)
  also through ``crypto.jwe.decrypt_with_key``.
* AES-256 key wrap: every vector of the 256-bit KEK group with ``cryptography``, called as
  ``crypto.jwe`` calls it; the vectors that wrap a 256-bit key (our CEK size) also through
  ``crypto.jwe.unwrap_key`` with the KDF pinned to the vector's KEK. "Acceptable" (8-byte keys,
  allowed by RFC 3394 but not by NIST SP 800-38F) is refused: our CEK is always 32 bytes.

Valid vectors must pass, invalid ones must raise.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from pgs_hub.crypto import jwe, jws, strictjson
from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.errors import (
    CommitmentError,
    DecryptionError,
    InvalidKeyError,
    OversizeError,
    SignatureError,
)
from pgs_hub.crypto.keys import DecryptionKey, VerifyKey

WYCHEPROOF = Path(__file__).resolve().parent.parent / "vectors" / "wycheproof"
LABEL = b"test commitment"
JWE_PROFILE = jwe.JweProfile(content_type="test+json", app_header="app", commitment_label=LABEL)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WYCHEPROOF / name).read_text(encoding="utf-8"))
    return data


def cases(
    data: dict[str, Any], *, group_filter: Callable[[dict[str, Any]], bool] | None = None
) -> list[Any]:
    """One named pytest.param(group, test) per vector of the selected groups."""
    params = []
    for group in data["testGroups"]:
        if group_filter is not None and not group_filter(group):
            continue
        for test in group["tests"]:
            flags = "+".join(test["flags"])
            params.append(
                pytest.param(group, test, id=f"tc{test['tcId']}-{test['result']}-{flags}")
            )
    return params


ED25519 = load("ed25519_test.json")
X25519 = load("x25519_test.json")
AES_GCM = load("aes_gcm_test.json")
AES_KW = load("aes_wrap_test.json")


def _is_a256gcm(group: dict[str, Any]) -> bool:
    return bool(group["keySize"] == 256 and group["ivSize"] == 96 and group["tagSize"] == 128)


def _is_a256kw(group: dict[str, Any]) -> bool:
    return bool(group["keySize"] == 256)


ED25519_CASES = cases(ED25519)
X25519_CASES = cases(X25519)
GCM_CASES = cases(AES_GCM, group_filter=_is_a256gcm)
KW_CASES = cases(AES_KW, group_filter=_is_a256kw)


def test_the_copied_files_are_the_expected_ones() -> None:
    """Guards against an accidental edit or a truncated copy (counts from the files' headers)."""
    assert (ED25519["algorithm"], len(ED25519_CASES)) == ("EDDSA", ED25519["numberOfTests"])
    assert (X25519["algorithm"], len(X25519_CASES)) == ("XDH", X25519["numberOfTests"])
    assert AES_GCM["algorithm"] == "AES-GCM"
    assert AES_KW["algorithm"] == "AES-WRAP"
    assert len(GCM_CASES) == 66
    assert len(KW_CASES) == 68


# --- Ed25519 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "test"), ED25519_CASES)
def test_ed25519(group: dict[str, Any], test: dict[str, Any]) -> None:
    public = VerifyKey.from_public(
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(group["publicKey"]["pk"]))
    )
    message = bytes.fromhex(test["msg"])
    signature = bytes.fromhex(test["sig"])
    assert test["result"] in {"valid", "invalid"}

    if len(signature) != 64:
        # Only the parser sees these: a JWS whose signature member has the wrong length.
        assert test["result"] == "invalid"
        header = {"alg": "EdDSA", "kid": public.kid, "typ": "t"}
        raw = strictjson.dumps(
            {
                "payload": b64u_encode(message),
                "protected": b64u_encode(strictjson.dumps(header)),
                "signature": b64u_encode(signature),
            }
        )
        expected = OversizeError if len(signature) > 64 else SignatureError
        with pytest.raises(expected, match="signature"):
            jws.parse(raw, typ="t", max_bytes=len(raw))
        return

    unverified = jws.UnverifiedJws(
        protected={},
        kid=public.kid,
        typ="t",
        signing_input=message,
        payload=message,
        signature=signature,
    )
    if test["result"] == "valid":
        assert jws.verify(unverified, public) == message
    else:
        with pytest.raises(SignatureError, match="does not verify"):
            jws.verify(unverified, public)


# --- X25519 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "test"), X25519_CASES)
def test_x25519(group: dict[str, Any], test: dict[str, Any]) -> None:
    assert group["curve"] == "curve25519"
    private = DecryptionKey.from_private(
        x25519.X25519PrivateKey.from_private_bytes(bytes.fromhex(test["private"]))
    )
    public = x25519.X25519PublicKey.from_public_bytes(bytes.fromhex(test["public"]))
    shared = bytes.fromhex(test["shared"])

    if shared == bytes(32):
        # Low-order public key: Wycheproof says "acceptable" to refuse; we must refuse.
        assert test["result"] == "acceptable"
        assert "ZeroSharedSecret" in test["flags"]
        with pytest.raises(InvalidKeyError, match="low-order point"):
            jwe._agree(private.private, public)
        return

    # valid, and acceptable-but-accepted (twist, non-canonical u, ...): the exact secret.
    assert test["result"] in {"valid", "acceptable"}
    assert "ZeroSharedSecret" not in test["flags"]
    assert jwe._agree(private.private, public) == shared


# --- AES-256-GCM --------------------------------------------------------------------------------


def _parsed_jwe(*, key: bytes, iv: bytes, aad: str, ciphertext: bytes, tag: bytes) -> jwe.ParsedJwe:
    """A parsed JWE carrying the vector's values, its commitment made for ``key``."""
    return jwe.ParsedJwe(
        protected_b64=aad,
        protected={},
        recipients=(),
        iv=iv,
        ciphertext=ciphertext,
        tag=tag,
        commitment=jwe.commitment(key, LABEL),
        app_header={},
    )


@pytest.mark.parametrize(("group", "test"), GCM_CASES)
def test_aes_256_gcm(group: dict[str, Any], test: dict[str, Any]) -> None:
    key, iv, aad, msg, ct, tag = (
        bytes.fromhex(test[name]) for name in ("key", "iv", "aad", "msg", "ct", "tag")
    )
    assert (len(key), len(iv), len(tag)) == (32, 12, 16)
    assert test["result"] in {"valid", "invalid"}
    aes = AESGCM(key)

    if test["result"] == "valid":
        assert aes.encrypt(iv, msg, aad) == ct + tag
        assert aes.decrypt(iv, ct + tag, aad) == msg
    else:
        with pytest.raises(InvalidTag):
            aes.decrypt(iv, ct + tag, aad)

    if not aad.isascii():
        return  # our AAD is always ASCII (the base64url protected header)
    parsed = _parsed_jwe(key=key, iv=iv, aad=aad.decode("ascii"), ciphertext=ct, tag=tag)
    if test["result"] == "valid":
        assert jwe.decrypt_with_key(parsed, key, profile=JWE_PROFILE) == msg
    else:
        with pytest.raises(DecryptionError, match="was altered"):
            jwe.decrypt_with_key(parsed, key, profile=JWE_PROFILE)


def test_aes_256_gcm_vectors_reach_our_code() -> None:
    """Most vectors have an ASCII AAD, so the branch through ``decrypt_with_key`` is not idle."""
    ascii_aad = [p for p in GCM_CASES if bytes.fromhex(p.values[1]["aad"]).isascii()]
    valid = [p for p in ascii_aad if p.values[1]["result"] == "valid"]
    assert len(ascii_aad) >= 40
    assert len(valid) >= 20


def test_decrypt_with_key_checks_the_commitment_before_the_tag() -> None:
    """A valid vector with a commitment for another key: refused for the commitment."""
    test = next(
        p.values[1]
        for p in GCM_CASES
        if p.values[1]["result"] == "valid" and bytes.fromhex(p.values[1]["aad"]).isascii()
    )
    key, iv, aad, ct, tag = (
        bytes.fromhex(test[name]) for name in ("key", "iv", "aad", "ct", "tag")
    )
    parsed = _parsed_jwe(key=bytes(32), iv=iv, aad=aad.decode("ascii"), ciphertext=ct, tag=tag)
    with pytest.raises(CommitmentError, match="key commitment"):
        jwe.decrypt_with_key(parsed, key, profile=JWE_PROFILE)


# --- AES-256 key wrap ---------------------------------------------------------------------------


@pytest.mark.parametrize(("group", "test"), KW_CASES)
def test_aes_256_key_wrap(group: dict[str, Any], test: dict[str, Any]) -> None:
    kek, msg, ct = (bytes.fromhex(test[name]) for name in ("key", "msg", "ct"))
    assert len(kek) == 32
    if test["result"] == "valid":
        assert aes_key_wrap(kek, msg) == ct
        assert aes_key_unwrap(kek, ct) == msg
        return
    # invalid, and acceptable (8-byte key data): refused
    assert test["result"] in {"invalid", "acceptable"}
    with pytest.raises((InvalidUnwrap, ValueError)):
        aes_key_unwrap(kek, ct)


CEK_SIZED_KW_CASES = [p for p in KW_CASES if len(p.values[1]["ct"]) == 2 * (jwe.CEK_BYTES + 8)]


def test_cek_sized_key_wrap_vectors_exist() -> None:
    assert len(CEK_SIZED_KW_CASES) == 16


@pytest.mark.parametrize(("group", "test"), CEK_SIZED_KW_CASES)
def test_aes_256_key_wrap_through_unwrap_key(
    group: dict[str, Any], test: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vectors wrapping a 32-byte key, through ``jwe.unwrap_key`` with the KDF pinned to the
    vector's KEK: valid ones give the key (commitment checked), invalid ones ``DecryptionError``."""
    kek, msg, ct = (bytes.fromhex(test[name]) for name in ("key", "msg", "ct"))
    monkeypatch.setattr(jwe, "_kek", lambda _shared: kek)
    key = DecryptionKey.generate()
    parsed = jwe.ParsedJwe(
        protected_b64="",
        protected={},
        recipients=(jwe.RecipientEntry(key.kid, DecryptionKey.generate().public.raw(), ct),),
        iv=bytes(12),
        ciphertext=b"",
        tag=bytes(16),
        commitment=hmac.digest(msg if len(msg) == 32 else bytes(32), LABEL, "sha256"),
        app_header={},
    )
    if test["result"] == "valid":
        assert jwe.unwrap_key(parsed, key, profile=JWE_PROFILE) == msg
    else:
        with pytest.raises(DecryptionError, match="could not be unwrapped"):
            jwe.unwrap_key(parsed, key, profile=JWE_PROFILE)
