"""JWE in general JSON serialization (RFC 7516 §7.2.1), one profile only.

* content: ``enc`` A256GCM, the AAD being the protected header exactly as sent (no ``aad`` member);
* per recipient: ``alg`` ECDH-ES+A256KW (RFC 7518 §4.6) with a fresh ephemeral X25519 key
  (RFC 8037 §3.2) and ``kid`` = the recipient key's RFC 7638 thumbprint; no ``apu``/``apv``;
* a **key commitment** ``kcm`` in the protected header: HMAC-SHA256 keyed with the content key over
  a profile label. AES-GCM is not key-committing, so without it a sender could wrap two different
  content keys for two recipients that decrypt one ciphertext to two plaintexts ("invisible
  salamanders"); every recipient checks ``kcm`` before decrypting.

The profile fixes every algorithm: there is nothing to negotiate and nothing to downgrade.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from pgs_hub.crypto import strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import (
    CommitmentError,
    DecryptionError,
    InvalidKeyError,
    MalformedError,
    NotARecipientError,
    OversizeError,
    UnsupportedAlgorithmError,
)
from pgs_hub.crypto.jose_headers import check_header
from pgs_hub.crypto.keys import DecryptionKey, RecipientKey, check_key_id, require_full_order

ALG = "ECDH-ES+A256KW"
ENC = "A256GCM"
CEK_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16
_MEMBERS = frozenset({"protected", "recipients", "iv", "ciphertext", "tag"})
_RECIPIENT_MEMBERS = frozenset({"header", "encrypted_key"})
_RECIPIENT_HEADER = frozenset({"alg", "kid", "epk"})
_EPK_MEMBERS = frozenset({"kty", "crv", "x"})


@dataclass(frozen=True)
class JweProfile:
    """What an application fixes about its JWEs.

    ``app_header`` names the one protected-header parameter that carries the application's own
    (routing) header; ``commitment_label`` separates this application's key commitments from
    any other's.
    """

    content_type: str
    app_header: str
    commitment_label: bytes
    max_recipients: int = 512
    max_protected_bytes: int = 128 * 1024
    max_ciphertext_bytes: int = 4 * 1024 * 1024

    def protected_params(self) -> frozenset[str]:
        return frozenset({"enc", "cty", "kcm", self.app_header})

    @property
    def max_json_values(self) -> int:
        """The most JSON values (:func:`crypto.strictjson.loads`) a JWE of this profile holds: a
        recipient entry takes nine, the rest a handful; more is refused before parsing."""
        return 16 * self.max_recipients + 64


@dataclass(frozen=True)
class FixedRandomness:
    """Explicit values for what :func:`encrypt` otherwise draws at random.

    For known-answer test vectors only: reusing a content key, IV or ephemeral key across two
    messages breaks confidentiality.
    """

    cek: bytes
    iv: bytes
    ephemeral_keys: tuple[x25519.X25519PrivateKey, ...]

    def __repr__(self) -> str:
        return "FixedRandomness(...)"


@dataclass(frozen=True)
class RecipientEntry:
    """One ``recipients[]`` member: whom the content key was wrapped for, and how."""

    kid: str
    epk: bytes  # the ephemeral X25519 key, raw (checked not of small order): the hub never uses it
    encrypted_key: bytes


@dataclass(frozen=True)
class ParsedJwe:
    """A structurally valid JWE. Its contents are unauthenticated until a recipient decrypts it
    (or, inside an envelope, until the outer signature is verified)."""

    protected_b64: str
    protected: dict[str, Any]
    recipients: tuple[RecipientEntry, ...]
    iv: bytes
    ciphertext: bytes
    tag: bytes
    commitment: bytes
    app_header: dict[str, Any]

    @property
    def recipient_kids(self) -> tuple[str, ...]:
        return tuple(r.kid for r in self.recipients)


def commitment(cek: bytes, label: bytes) -> bytes:
    """The key commitment: HMAC-SHA256 keyed with the content key."""
    return hmac.digest(cek, label, "sha256")


def _kek(shared: bytes) -> bytes:
    """RFC 7518 §4.6.2 Concat KDF: AlgorithmID = alg, empty PartyU/PartyV, SuppPubInfo = 256."""
    alg = ALG.encode("ascii")
    other = struct.pack(">I", len(alg)) + alg + struct.pack(">III", 0, 0, 256)
    return ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=other).derive(shared)


def _agree(private: x25519.X25519PrivateKey, public: x25519.X25519PublicKey) -> bytes:
    try:
        return private.exchange(public)
    except ValueError as exc:  # all-zero shared secret: a low-order point
        raise InvalidKeyError("the ephemeral key is a low-order point") from exc


def encrypt(
    plaintext: bytes,
    recipients: Sequence[RecipientKey],
    *,
    profile: JweProfile,
    app_header: Mapping[str, Any],
    fixed: FixedRandomness | None = None,
) -> bytes:
    """Encrypt ``plaintext`` to every key in ``recipients``; returns the JWE JSON bytes.

    ``fixed`` replaces the random content key, IV and ephemeral keys (test vectors only).
    """
    if not recipients:
        raise MalformedError("a JWE needs at least one recipient")
    if len(recipients) > profile.max_recipients:
        raise OversizeError(f"more than {profile.max_recipients} recipients")
    if len({r.kid for r in recipients}) != len(recipients):
        raise MalformedError("a recipient key is listed twice")
    if fixed is not None and len(fixed.ephemeral_keys) != len(recipients):
        raise MalformedError("fixed randomness needs one ephemeral key per recipient")
    cek = fixed.cek if fixed else os.urandom(CEK_BYTES)
    iv = fixed.iv if fixed else os.urandom(IV_BYTES)
    header = {
        "enc": ENC,
        "cty": profile.content_type,
        "kcm": b64u_encode(commitment(cek, profile.commitment_label)),
        profile.app_header: dict(app_header),
    }
    protected_b64 = b64u_encode(strictjson.dumps(header))
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected_b64.encode("ascii"))
    entries = []
    for index, recipient in enumerate(recipients):
        ephemeral = fixed.ephemeral_keys[index] if fixed else x25519.X25519PrivateKey.generate()
        kek = _kek(_agree(ephemeral, recipient.key))
        epk = RecipientKey.from_public(ephemeral.public_key())
        entries.append(
            {
                "header": {
                    "alg": ALG,
                    "kid": recipient.kid,
                    "epk": {"kty": "OKP", "crv": "X25519", "x": b64u_encode(epk.raw())},
                },
                "encrypted_key": b64u_encode(aes_key_wrap(kek, cek)),
            }
        )
    return strictjson.dumps(
        {
            "protected": protected_b64,
            "recipients": entries,
            "iv": b64u_encode(iv),
            "ciphertext": b64u_encode(sealed[:-TAG_BYTES]),
            "tag": b64u_encode(sealed[-TAG_BYTES:]),
        }
    )


def _parse_recipient(index: int, entry: Any) -> RecipientEntry:
    what = f"JWE recipients[{index}]"
    if not isinstance(entry, dict):
        raise MalformedError(f"{what} must be an object")
    strictjson.require_members(entry, what=what, required=_RECIPIENT_MEMBERS)
    header = entry["header"]
    if not isinstance(header, dict):
        raise MalformedError(f"{what}.header must be an object")
    check_header(header, what=f"{what} header", required=_RECIPIENT_HEADER, optional=frozenset())
    if header["alg"] != ALG:
        raise UnsupportedAlgorithmError(f"{what} alg {header['alg']!r} is not {ALG}")
    kid = check_key_id(header["kid"], what=f"{what} kid")
    epk = header["epk"]
    if not isinstance(epk, dict):
        raise MalformedError(f"{what} epk must be an object")
    strictjson.require_members(epk, what=f"{what} epk", required=_EPK_MEMBERS)
    if epk["kty"] != "OKP" or epk["crv"] != "X25519":
        raise UnsupportedAlgorithmError(f"{what} epk must be an OKP X25519 key")
    x = b64u_decode(strictjson.get_str(epk, "x", what=f"{what} epk", max_len=43), field="epk x")
    if len(x) != 32:
        raise MalformedError(f"{what} epk x must be 32 bytes")
    require_full_order("X25519", x, what=f"{what} epk")
    wrapped = b64u_decode(
        strictjson.get_str(entry, "encrypted_key", what=what, max_len=54), field="encrypted_key"
    )
    if len(wrapped) != CEK_BYTES + 8:
        raise MalformedError(f"{what} encrypted_key must be {CEK_BYTES + 8} bytes")
    return RecipientEntry(kid, x, wrapped)


def parse_object(obj: Mapping[str, Any], *, profile: JweProfile) -> ParsedJwe:
    """Check an already strictly parsed JWE object against the profile."""
    strictjson.require_members(obj, what="JWE", required=_MEMBERS)
    protected_b64 = strictjson.get_str(
        obj, "protected", what="JWE", max_len=(profile.max_protected_bytes * 4 + 2) // 3
    )
    protected = strictjson.loads(
        b64u_decode(protected_b64, field="JWE protected header"),
        what="JWE protected header",
        max_bytes=profile.max_protected_bytes,
    )
    check_header(
        protected,
        what="JWE protected header",
        required=profile.protected_params(),
        optional=frozenset(),
    )
    if protected["enc"] != ENC:
        raise UnsupportedAlgorithmError(f"JWE enc {protected['enc']!r} is not {ENC}")
    if protected["cty"] != profile.content_type:
        raise UnsupportedAlgorithmError(
            f"JWE cty {protected['cty']!r} is not {profile.content_type!r}"
        )
    if not isinstance(protected[profile.app_header], dict):
        raise MalformedError(f"JWE protected header {profile.app_header!r} must be an object")
    kcm = b64u_decode(strictjson.get_str(protected, "kcm", what="JWE", max_len=43), field="kcm")
    if len(kcm) != 32:
        raise MalformedError("JWE kcm must be a 32-byte HMAC-SHA256 value")
    raw_recipients = obj["recipients"]
    if not isinstance(raw_recipients, list) or not raw_recipients:
        raise MalformedError("JWE recipients must be a non-empty list")
    if len(raw_recipients) > profile.max_recipients:
        raise OversizeError(f"JWE has more than {profile.max_recipients} recipients")
    recipients = tuple(_parse_recipient(i, r) for i, r in enumerate(raw_recipients))
    if len({r.kid for r in recipients}) != len(recipients):
        raise MalformedError("JWE lists a recipient key twice")
    iv = b64u_decode(strictjson.get_str(obj, "iv", what="JWE", max_len=16), field="JWE iv")
    tag = b64u_decode(strictjson.get_str(obj, "tag", what="JWE", max_len=22), field="JWE tag")
    if len(iv) != IV_BYTES or len(tag) != TAG_BYTES:
        raise MalformedError(f"JWE iv must be {IV_BYTES} bytes and tag {TAG_BYTES} bytes")
    ciphertext = b64u_decode(
        strictjson.get_str(
            obj, "ciphertext", what="JWE", max_len=(profile.max_ciphertext_bytes * 4 + 2) // 3
        ),
        field="JWE ciphertext",
    )
    return ParsedJwe(
        protected_b64=protected_b64,
        protected=protected,
        recipients=recipients,
        iv=iv,
        ciphertext=ciphertext,
        tag=tag,
        commitment=kcm,
        app_header=protected[profile.app_header],
    )


def parse(raw: bytes, *, profile: JweProfile) -> ParsedJwe:
    """Strictly parse JWE JSON bytes and check them against the profile."""
    obj = strictjson.loads(
        raw, what="JWE", max_bytes=len(raw) if raw else 1, max_values=profile.max_json_values
    )
    return parse_object(obj, profile=profile)


def unwrap_key(jwe: ParsedJwe, key: DecryptionKey, *, profile: JweProfile) -> bytes:
    """Recover and check the content key for ``key``; raises unless ``key`` is a recipient."""
    entry = next((r for r in jwe.recipients if r.kid == key.kid), None)
    if entry is None:
        raise NotARecipientError("this key is not among the envelope's recipients")
    kek = _kek(_agree(key.private, x25519.X25519PublicKey.from_public_bytes(entry.epk)))
    try:
        cek = aes_key_unwrap(kek, entry.encrypted_key)
    except InvalidUnwrap as exc:
        raise DecryptionError("the content key could not be unwrapped") from exc
    check_commitment(jwe, cek, profile=profile)
    return cek


def check_commitment(jwe: ParsedJwe, cek: bytes, *, profile: JweProfile) -> None:
    """Raise :class:`CommitmentError` unless ``cek`` is the key the header commits to."""
    if len(cek) != CEK_BYTES or not hmac.compare_digest(
        commitment(cek, profile.commitment_label), jwe.commitment
    ):
        raise CommitmentError("the content key does not match the header's key commitment")


def decrypt_with_key(jwe: ParsedJwe, cek: bytes, *, profile: JweProfile) -> bytes:
    """Decrypt with a content key already known to match (or checked here against) ``kcm``."""
    check_commitment(jwe, cek, profile=profile)
    try:
        return AESGCM(cek).decrypt(
            jwe.iv, jwe.ciphertext + jwe.tag, jwe.protected_b64.encode("ascii")
        )
    except InvalidTag as exc:
        raise DecryptionError("the ciphertext or protected header was altered") from exc


def decrypt(jwe: ParsedJwe, key: DecryptionKey, *, profile: JweProfile) -> tuple[bytes, bytes]:
    """Decrypt as recipient ``key``; returns ``(plaintext, content_key)``."""
    cek = unwrap_key(jwe, key, profile=profile)
    return decrypt_with_key(jwe, cek, profile=profile), cek
