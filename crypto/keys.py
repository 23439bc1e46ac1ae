"""Participant keys: Ed25519 to sign, X25519 to receive, never one key for both.

Key ids are RFC 7638 JWK thumbprints (SHA-256, base64url), so any JOSE library can recompute them
from the public JWK (RFC 8037) and nobody has to trust a name the hub assigns. Private keys leave
this module as PKCS#8 PEM, encrypted when a passphrase is given; exporting them as JWK is a
separate, explicitly named function because a JWK private key is stored in the clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign, crypto_sign_seed_keypair

from pgs_hub.crypto import ed25519_verify
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.ed25519_verify import SIGNATURE_BYTES
from pgs_hub.crypto.errors import (
    InvalidKeyError,
    LowOrderKeyError,
    MalformedError,
    UnsupportedAlgorithmError,
)
from pgs_hub.crypto.strictjson import canonical_members, require_members

Curve = Literal["Ed25519", "X25519"]
KEY_ID_LENGTH = 43  # base64url of a SHA-256 digest
_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NO_ENC = serialization.NoEncryption()


def thumbprint(crv: Curve, x: bytes) -> str:
    """RFC 7638 thumbprint of an OKP public key (members ``crv``, ``kty``, ``x``)."""
    members = {"crv": crv, "kty": "OKP", "x": b64u_encode(x)}
    return b64u_encode(hashlib.sha256(canonical_members(members)).digest())


def check_key_id(kid: object, *, what: str = "kid") -> str:
    """Return ``kid`` if it has the form of a thumbprint; raise otherwise."""
    if not isinstance(kid, str) or len(kid) != KEY_ID_LENGTH:
        raise MalformedError(f"{what} must be a {KEY_ID_LENGTH}-character JWK thumbprint")
    b64u_decode(kid, field=what)
    return kid


# --- public keys that prove or protect nothing ---------------------------------------------------

# The u-coordinates of the X25519 points of small order (1, 2, 4 or 8), on the curve and on its
# twist, with the non-canonical spellings u + p that still fit in 255 bits: 0, 1, the two points
# of order 8, p - 1, p and p + 1 (the list libsodium refuses). X25519 ignores the top bit of the
# last byte (RFC 7748 §5), so it is cleared before the comparison. Any clamped scalar is a
# multiple of the cofactor 8 and maps exactly these points to the all-zero output:
# tests/crypto/test_low_order.py checks both statements against cryptography's own X25519 (an
# exchange with a fixed scalar, which is what this check cost, ~40 us a recipient, before: the
# hub parses every recipient's ephemeral key of every envelope, 186 of them in a broadcast).
_P = 2**255 - 19
LOW_ORDER_U: frozenset[bytes] = frozenset(
    u.to_bytes(32, "little")
    for u in (
        0,
        1,
        325606250916557431795983626356110631294008115727848805560023387167927233504,
        39382357235489614581723060781553021112529911719440698176882885853963445705823,
        _P - 1,
        _P,
        _P + 1,
    )
)


def require_full_order(crv: Curve, x: bytes, *, what: str) -> None:
    """Refuse a public key of small order: raise :class:`LowOrderKeyError`.

    Why. OpenSSL verifies Ed25519 with the cofactorless equation and accepts any key that decodes:
    under the identity point as a key, the signature with ``R`` the identity and ``S`` zero
    verifies for *every* message (tests/crypto/test_ed25519_verify.py), so anybody could sign as
    whoever holds such a key, and its holder could deny anything it signed. Keys of order 2, 4 or
    8, and keys with such a component added, are refused for the same reason by libsodium's
    ``crypto_core_ed25519_is_valid_point`` (about 31 us; it also refuses a non-canonical encoding).
    A key made by signing software is ``a * B``, in the prime-order group, and always passes. An
    X25519 key of small order gives a shared secret anyone knows, or none (``LOW_ORDER_U``).

    Called where public keys enter from outside (JWKs, note and witness key strings, ephemeral
    keys), not where signatures are verified, which stay exactly OpenSSL's."""
    if crv == "X25519":
        if x[:31] + bytes((x[31] & 0x7F,)) in LOW_ORDER_U:
            raise LowOrderKeyError(f"{what} is a low-order X25519 point")
    elif not crypto_core_ed25519_is_valid_point(x):
        raise LowOrderKeyError(
            f"{what} is an Ed25519 point of small order, or not in the prime-order group: "
            "a signature under it proves nothing"
        )


@dataclass(frozen=True)
class VerifyKey:
    """An Ed25519 public key with its thumbprint."""

    key: ed25519.Ed25519PublicKey
    kid: str
    x: bytes  # the raw public key (RFC 8037 "x"), for libsodium's check (hence kept, not derived)

    @classmethod
    def from_public(cls, key: ed25519.Ed25519PublicKey) -> VerifyKey:
        x = key.public_bytes(_RAW, _RAW_PUB)
        return cls(key, thumbprint("Ed25519", x), x)

    def raw(self) -> bytes:
        return self.x

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise :class:`cryptography.exceptions.InvalidSignature` unless ``signature`` is valid
        for ``data``: OpenSSL's accepted set, most of the work done by libsodium
        (:mod:`crypto.ed25519_verify`)."""
        ed25519_verify.verify(self.key, self.x, signature, data)

    def to_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64u_encode(self.raw()),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }


@dataclass(frozen=True)
class RecipientKey:
    """An X25519 public key with its thumbprint: what a sender encrypts to."""

    key: x25519.X25519PublicKey
    kid: str

    @classmethod
    def from_public(cls, key: x25519.X25519PublicKey) -> RecipientKey:
        return cls(key, thumbprint("X25519", key.public_bytes(_RAW, _RAW_PUB)))

    def raw(self) -> bytes:
        return self.key.public_bytes(_RAW, _RAW_PUB)

    def to_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "X25519",
            "x": b64u_encode(self.raw()),
            "kid": self.kid,
            "use": "enc",
            "alg": "ECDH-ES+A256KW",
        }


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key. Its ``repr`` never shows key material.

    Signatures are made by libsodium (``crypto_sign``), from the key's own seed: Ed25519 is
    deterministic (RFC 8032), so they are the very bytes OpenSSL makes, in 21 instead of 34 us,
    which a hub that signs an acceptance for every envelope feels. ``public`` is what the key
    claims to be (a test may pair a private key with another's public one, as a forger would);
    the signature is always made under the private key's own public key."""

    private: ed25519.Ed25519PrivateKey
    public: VerifyKey
    _sodium: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seed = self.private.private_bytes(_RAW, _RAW_PRIV, _NO_ENC)
        object.__setattr__(self, "_sodium", crypto_sign_seed_keypair(seed)[1])

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.from_private(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_private(cls, private: ed25519.Ed25519PrivateKey) -> SigningKey:
        return cls(private, VerifyKey.from_public(private.public_key()))

    @property
    def kid(self) -> str:
        return self.public.kid

    def sign(self, data: bytes) -> bytes:
        return crypto_sign(data, self._sodium)[:SIGNATURE_BYTES]

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


@dataclass(frozen=True)
class DecryptionKey:
    """An X25519 private key. Its ``repr`` never shows key material."""

    private: x25519.X25519PrivateKey
    public: RecipientKey

    @classmethod
    def generate(cls) -> DecryptionKey:
        return cls.from_private(x25519.X25519PrivateKey.generate())

    @classmethod
    def from_private(cls, private: x25519.X25519PrivateKey) -> DecryptionKey:
        return cls(private, RecipientKey.from_public(private.public_key()))

    @property
    def kid(self) -> str:
        return self.public.kid

    def __repr__(self) -> str:
        return f"DecryptionKey(kid={self.kid!r})"


@dataclass(frozen=True)
class KeySet:
    """A participant's two private keys."""

    signing: SigningKey
    decryption: DecryptionKey

    @classmethod
    def generate(cls) -> KeySet:
        return cls(SigningKey.generate(), DecryptionKey.generate())

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The RFC 7517 JWK Set of both public keys, safe to publish."""
        return {"keys": [self.signing.public.to_jwk(), self.decryption.public.to_jwk()]}


# --- PEM (PKCS#8 / SubjectPublicKeyInfo) -------------------------------------------------------


def private_pem(key: SigningKey | DecryptionKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM; encrypted with ``cryptography``'s best scheme when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else _NO_ENC
    )
    return key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_pem(data: bytes, passphrase: bytes | None) -> SigningKey | DecryptionKey:
    """Load a PKCS#8 PEM private key of either kind; wrong passphrase or type raises."""
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except TypeError as exc:
        if passphrase:
            raise InvalidKeyError(
                "the key file is not encrypted but a passphrase was given"
            ) from exc
        raise InvalidKeyError("the key file is encrypted: a passphrase is needed") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidKeyError(
            "the key file could not be read (wrong passphrase or not a key)"
        ) from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return SigningKey.from_private(key)
    if isinstance(key, x25519.X25519PrivateKey):
        return DecryptionKey.from_private(key)
    raise InvalidKeyError("only Ed25519 and X25519 private keys are used")


# --- JWK (RFC 8037) ----------------------------------------------------------------------------

_PUBLIC_JWK_OPTIONAL = frozenset({"kid", "use", "alg", "key_ops"})


def _okp_x(jwk: Mapping[str, Any], crv: Curve, *, private: bool) -> tuple[bytes, bytes | None]:
    required = frozenset({"kty", "crv", "x"} | ({"d"} if private else set()))
    require_members(jwk, what="JWK", required=required, optional=_PUBLIC_JWK_OPTIONAL)
    if jwk["kty"] != "OKP":
        raise UnsupportedAlgorithmError(f"JWK kty {jwk['kty']!r} is not OKP")
    if jwk["crv"] != crv:
        raise UnsupportedAlgorithmError(f"JWK crv {jwk['crv']!r} is not {crv}")
    for member in ("x", "d", "kid"):
        if member in jwk and not isinstance(jwk[member], str):
            raise MalformedError(f"JWK {member} must be a string")
    x = b64u_decode(jwk["x"], field="JWK x", max_bytes=32)
    if len(x) != 32:
        raise InvalidKeyError(f"JWK x must be 32 bytes for {crv}")
    d = b64u_decode(jwk["d"], field="JWK d", max_bytes=32) if private else None
    if d is not None and len(d) != 32:
        raise InvalidKeyError(f"JWK d must be 32 bytes for {crv}")
    if "kid" in jwk and jwk["kid"] != thumbprint(crv, x):
        raise InvalidKeyError("JWK kid is not the RFC 7638 thumbprint of the key")
    return x, d


def verify_key_from_jwk(jwk: Mapping[str, Any]) -> VerifyKey:
    """Import a public Ed25519 JWK; a ``kid`` present must equal its thumbprint, and the key must
    not be of small order (:func:`require_full_order`)."""
    x, _ = _okp_x(jwk, "Ed25519", private=False)
    require_full_order("Ed25519", x, what="the JWK's key")
    return VerifyKey.from_public(ed25519.Ed25519PublicKey.from_public_bytes(x))


def recipient_key_from_jwk(jwk: Mapping[str, Any]) -> RecipientKey:
    """Import a public X25519 JWK; a ``kid`` present must equal its thumbprint, and the key must
    not be of small order (:func:`require_full_order`)."""
    x, _ = _okp_x(jwk, "X25519", private=False)
    require_full_order("X25519", x, what="the JWK's key")
    return RecipientKey.from_public(x25519.X25519PublicKey.from_public_bytes(x))


def private_jwk(key: SigningKey | DecryptionKey) -> dict[str, str]:
    """Export a private key as a JWK (RFC 8037) for other JOSE tools.

    The result holds the private key in the clear: callers must warn the user and write it only
    where they were explicitly asked to.
    """
    d = key.private.private_bytes(_RAW, _RAW_PRIV, _NO_ENC)
    return {**key.public.to_jwk(), "d": b64u_encode(d)}


def private_key_from_jwk(jwk: Mapping[str, Any]) -> SigningKey | DecryptionKey:
    """Import a private OKP JWK, checking that ``x`` belongs to ``d``."""
    if jwk.get("crv") == "Ed25519":
        x, d = _okp_x(jwk, "Ed25519", private=True)
        assert d is not None  # noqa: S101 - _okp_x returns d when private=True
        signing = SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(d))
        if signing.public.raw() != x:
            raise InvalidKeyError("JWK x does not match its private key d")
        return signing
    x, d = _okp_x(jwk, "X25519", private=True)
    assert d is not None  # noqa: S101
    decryption = DecryptionKey.from_private(x25519.X25519PrivateKey.from_private_bytes(d))
    if decryption.public.raw() != x:
        raise InvalidKeyError("JWK x does not match its private key d")
    return decryption


def public_keys_from_jwks(
    jwks: Mapping[str, Any],
) -> tuple[Sequence[VerifyKey], Sequence[RecipientKey]]:
    """Split a JWK Set into its Ed25519 and X25519 public keys."""
    require_members(jwks, what="JWK Set", required=frozenset({"keys"}))
    keys = jwks["keys"]
    if not isinstance(keys, list):
        raise MalformedError("JWK Set keys must be a list")
    verify: list[VerifyKey] = []
    recipient: list[RecipientKey] = []
    for jwk in keys:
        if not isinstance(jwk, dict):
            raise MalformedError("each JWK must be an object")
        if jwk.get("crv") == "Ed25519":
            verify.append(verify_key_from_jwk(jwk))
        else:
            recipient.append(recipient_key_from_jwk(jwk))
    return verify, recipient
