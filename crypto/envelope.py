"""The signed, encrypted envelope: a JWE (general JSON) as the payload of a JWS (flattened JSON).

Encrypt-then-sign: the sender signs the exact JWE bytes, so anyone holding the sender's public key
(the hub included) authenticates the sender, the application header in the JWE protected header,
the recipient list and the ciphertext without any content key. Recipients verify the signature
first, then unwrap their content key, check the key commitment and decrypt.

The three stages are three types: :class:`UnverifiedEnvelope` (parsed, nothing trusted),
:class:`VerifiedEnvelope` (signature checked) and :class:`OpenedEnvelope` (decrypted). Only
:func:`verify` turns the first into the second, and only :func:`open_envelope` takes the second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pgs_hub.crypto import jwe, jws, strictjson
from pgs_hub.crypto.errors import OversizeError
from pgs_hub.crypto.keys import DecryptionKey, RecipientKey, SigningKey, VerifyKey


@dataclass(frozen=True)
class EnvelopeProfile:
    """An application's fixed choices: the JWS ``typ``, the JWE profile and the size cap."""

    jws_typ: str
    jwe: jwe.JweProfile
    max_envelope_bytes: int = 6 * 1024 * 1024


@dataclass(frozen=True)
class UnverifiedEnvelope:
    """Structurally valid; **nothing in it is authenticated yet**."""

    raw: bytes
    jws: jws.UnverifiedJws
    jwe: jwe.ParsedJwe

    @property
    def signer_kid(self) -> str:
        """The key id the sender claims; use it to look the key up, then call :func:`verify`."""
        return self.jws.kid

    @property
    def claimed_header(self) -> dict[str, Any]:
        """The unauthenticated application header, for looking up the sender's key only."""
        return self.jwe.app_header


@dataclass(frozen=True)
class VerifiedEnvelope:
    """An envelope whose signature verified under ``signer``."""

    raw: bytes
    signer: VerifyKey
    jwe: jwe.ParsedJwe

    @property
    def app_header(self) -> dict[str, Any]:
        return self.jwe.app_header

    @property
    def recipient_kids(self) -> tuple[str, ...]:
        return self.jwe.recipient_kids

    @property
    def sha256(self) -> bytes:
        return envelope_digest(self.raw)


@dataclass(frozen=True)
class OpenedEnvelope:
    """A decrypted envelope. ``content_key`` lets the recipient later disclose the content."""

    envelope: VerifiedEnvelope
    plaintext: bytes
    content_key: bytes

    def __repr__(self) -> str:
        return f"OpenedEnvelope(sha256={self.envelope.sha256.hex()}, {len(self.plaintext)} bytes)"


def envelope_digest(raw: bytes) -> bytes:
    """SHA-256 of the exact envelope bytes: how receipts, disclosures and the audit log name it."""
    return hashlib.sha256(raw).digest()


def seal(
    *,
    profile: EnvelopeProfile,
    app_header: Mapping[str, Any],
    plaintext: bytes,
    signer: SigningKey,
    recipients: Sequence[RecipientKey],
    fixed: jwe.FixedRandomness | None = None,
) -> bytes:
    """Encrypt ``plaintext`` to ``recipients`` and sign the result as ``signer``.

    ``fixed`` is for known-answer test vectors only (see :class:`crypto.jwe.FixedRandomness`).
    """
    inner = jwe.encrypt(
        plaintext, recipients, profile=profile.jwe, app_header=app_header, fixed=fixed
    )
    raw = jws.sign(inner, signer, typ=profile.jws_typ)
    if len(raw) > profile.max_envelope_bytes:
        raise OversizeError(f"the sealed envelope exceeds {profile.max_envelope_bytes} bytes")
    return raw


def parse(raw: bytes, *, profile: EnvelopeProfile) -> UnverifiedEnvelope:
    """Strictly parse an envelope; raises a :class:`~crypto.errors.MalformedError` subclass."""
    outer = jws.parse(
        raw, typ=profile.jws_typ, what="envelope", max_bytes=profile.max_envelope_bytes
    )
    inner = jwe.parse(outer.payload, profile=profile.jwe)
    return UnverifiedEnvelope(raw=raw, jws=outer, jwe=inner)


def verify(envelope: UnverifiedEnvelope, signer: VerifyKey) -> VerifiedEnvelope:
    """Verify the sender's signature over the exact JWE bytes."""
    jws.verify(envelope.jws, signer)
    return VerifiedEnvelope(raw=envelope.raw, signer=signer, jwe=envelope.jwe)


def open_envelope(
    envelope: VerifiedEnvelope, key: DecryptionKey, *, profile: EnvelopeProfile
) -> OpenedEnvelope:
    """Decrypt as the holder of ``key``; checks the content-key commitment first."""
    plaintext, cek = jwe.decrypt(envelope.jwe, key, profile=profile.jwe)
    return OpenedEnvelope(envelope=envelope, plaintext=plaintext, content_key=cek)


def loads_plaintext(plaintext: bytes, *, what: str = "content", max_bytes: int) -> dict[str, Any]:
    """Strict JSON for decrypted content: the same rules as for the envelope itself."""
    return strictjson.loads(plaintext, what=what, max_bytes=max_bytes)
