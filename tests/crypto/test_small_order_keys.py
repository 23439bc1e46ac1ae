"""Public keys of small order are refused where keys enter (crypto.keys.require_full_order): JWKs,
note verifier keys and witness keys; keys made by signing software always pass.

Why: OpenSSL, whose verdict the hub's Ed25519 verification keeps, accepts the signature ``R`` the
identity, ``S`` zero for every message under the identity point as a key
(tests/crypto/test_ed25519_verify.py): anybody could sign as whoever holds such a key. The eight
points of small order below are libsodium's list; each is checked here to be of small order with
libsodium's point addition ([8]P is the identity), not taken on trust.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.bindings import crypto_core_ed25519_add

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.errors import InvalidKeyError, LowOrderKeyError
from pgs_hub.crypto.keys import (
    LOW_ORDER_U,
    Curve,
    DecryptionKey,
    SigningKey,
    VerifyKey,
    recipient_key_from_jwk,
    require_full_order,
    thumbprint,
    verify_key_from_jwk,
)
from pgs_hub.crypto.note import NoteVerifier, parse_verifier_key
from pgs_hub.crypto.witness import CosignerVerifier, parse_cosigner_key

IDENTITY = bytes.fromhex("01" + "00" * 31)
SMALL_ORDER = [
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    )
]


def _times_eight(point: bytes) -> bytes:
    for _ in range(3):
        point = crypto_core_ed25519_add(point, point)
    return point


def _jwk(crv: Curve, x: bytes) -> dict[str, str]:
    return {"kty": "OKP", "crv": crv, "x": b64u_encode(x), "kid": thumbprint(crv, x)}


@pytest.mark.parametrize("point", SMALL_ORDER, ids=lambda p: p.hex()[:8] + p.hex()[-2:])
def test_every_ed25519_point_of_small_order_is_refused(point: bytes) -> None:
    assert _times_eight(point) == IDENTITY  # small order, by libsodium's arithmetic
    ed25519.Ed25519PublicKey.from_public_bytes(point)  # OpenSSL loads it: only our check refuses
    with pytest.raises(LowOrderKeyError, match="small order"):
        require_full_order("Ed25519", point, what="key")
    with pytest.raises(LowOrderKeyError):
        verify_key_from_jwk(_jwk("Ed25519", point))


@pytest.mark.parametrize("torsion", SMALL_ORDER[1:], ids=lambda p: p.hex()[:8] + p.hex()[-2:])
def test_an_honest_key_with_a_small_order_part_added_is_refused(torsion: bytes) -> None:
    honest = SigningKey.generate().public.raw()
    mixed = crypto_core_ed25519_add(honest, torsion)
    assert mixed != honest
    assert _times_eight(mixed) != IDENTITY  # not of small order itself, only partly
    with pytest.raises(LowOrderKeyError):
        verify_key_from_jwk(_jwk("Ed25519", mixed))


def test_a_non_canonical_encoding_is_refused() -> None:
    # y = p + 1 spells the identity's y = 1 a second way; OpenSSL reads it.
    spelled = (2**255 - 19 + 1).to_bytes(32, "little")
    ed25519.Ed25519PublicKey.from_public_bytes(spelled)
    with pytest.raises(LowOrderKeyError):
        require_full_order("Ed25519", spelled, what="key")


@pytest.mark.parametrize("u", sorted(LOW_ORDER_U), ids=lambda u: u.hex()[:8] + u.hex()[-2:])
def test_an_x25519_jwk_of_small_order_is_refused(u: bytes) -> None:
    with pytest.raises(LowOrderKeyError, match="low-order X25519"):
        recipient_key_from_jwk(_jwk("X25519", u))


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_keys_made_by_signing_software_pass(sign_seed: bytes, encrypt_seed: bytes) -> None:
    verify = SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(sign_seed)).public
    recipient = DecryptionKey.from_private(
        x25519.X25519PrivateKey.from_private_bytes(encrypt_seed)
    ).public
    assert verify_key_from_jwk(verify.to_jwk()) == verify
    assert recipient_key_from_jwk(recipient.to_jwk()).kid == recipient.kid


def _identity_key() -> VerifyKey:
    return VerifyKey.from_public(ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY))


KEY_STRINGS: dict[str, tuple[Callable[[str, VerifyKey], Any], Callable[[str], Any]]] = {
    "note verifier key": (NoteVerifier.for_key, parse_verifier_key),
    "witness key": (CosignerVerifier.for_key, parse_cosigner_key),
}


@pytest.mark.parametrize("kind", KEY_STRINGS)
def test_a_key_string_of_small_order_is_refused(kind: str) -> None:
    make, parse = KEY_STRINGS[kind]
    good = make("witness.example", _identity_key()).encode()
    with pytest.raises(LowOrderKeyError):
        parse(good)
    # A wrong key ID is still told as such, before the key's order is looked at.
    name, _, rest = good.split("+", 2)
    with pytest.raises(InvalidKeyError, match="key ID"):
        parse(f"{name}+00000000+{rest}")


def test_the_identity_key_is_what_makes_the_forgery() -> None:
    """The reason for the refusal, shown: under the identity key OpenSSL accepts one fixed
    signature for unrelated messages; under an honest key it accepts none of them."""
    forged = IDENTITY + bytes(32)  # R the identity, S zero
    weak = _identity_key()
    for message in (b"seizure notice", b"", b"x" * 1000):
        weak.verify(forged, message)  # raises if refused
    honest = SigningKey.generate().public
    with pytest.raises(InvalidSignature):
        honest.verify(forged, b"seizure notice")
