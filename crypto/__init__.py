"""A small, strict JOSE profile: Ed25519 signatures, X25519 + A256GCM encryption, key commitment.

Pure code: no file, network or clock access. The public surface is re-exported here; modules are
named for what they own (``keys``, ``jws``, ``jwe``, ``envelope``, ``disclosure``).
"""

from crypto.disclosure import ContentKeyDisclosure, disclose, verify_disclosure
from crypto.envelope import (
    EnvelopeProfile,
    OpenedEnvelope,
    UnverifiedEnvelope,
    VerifiedEnvelope,
    envelope_digest,
    open_envelope,
    parse,
    seal,
    verify,
)
from crypto.errors import CryptoError
from crypto.jwe import JweProfile
from crypto.keys import DecryptionKey, KeySet, RecipientKey, SigningKey, VerifyKey

__all__ = [
    "ContentKeyDisclosure",
    "CryptoError",
    "DecryptionKey",
    "EnvelopeProfile",
    "JweProfile",
    "KeySet",
    "OpenedEnvelope",
    "RecipientKey",
    "SigningKey",
    "UnverifiedEnvelope",
    "VerifiedEnvelope",
    "VerifyKey",
    "disclose",
    "envelope_digest",
    "open_envelope",
    "parse",
    "seal",
    "verify",
    "verify_disclosure",
]
