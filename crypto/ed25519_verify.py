"""Ed25519 verification: libsodium first, OpenSSL's verdict whenever libsodium says no.

Why two implementations. pyca/cryptography verifies Ed25519 with OpenSSL's portable code (32-bit
limbs): about 118 us for a 6 kB envelope on the benchmark machine, against about 67 us with
libsodium (PyNaCl), whose field arithmetic uses 64-bit limbs. The verification was the largest
single piece of the hub's CPU per envelope (issue 17: bench/README.md, "Ninth round").

Why the answer is still OpenSSL's. The two accept different sets: libsodium also refuses public
keys and ``R`` values of small order and non-canonical encodings of the key, which OpenSSL
accepts (the identity point as a key, with ``R`` the identity and ``S`` zero, verifies any
message under OpenSSL, not under libsodium). Both check the same cofactorless equation over the
same ``k = SHA-512(R || A || M)``, so whatever libsodium accepts, OpenSSL accepts too (the
Wycheproof vectors agree on every case, tests/crypto/test_ed25519_verify.py). A signature
libsodium refuses is therefore checked again by OpenSSL, whose verdict stands: the accepted set
is exactly what it was, and only a refusal costs both checks (about 185 us).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ed25519
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

SIGNATURE_BYTES = 64


def sodium_accepts(public: bytes, signature: bytes, message: bytes) -> bool:
    """libsodium's verdict alone (``crypto_sign_open`` of ``signature || message``)."""
    if len(signature) != SIGNATURE_BYTES:
        return False
    try:
        crypto_sign_open(signature + message, public)
    except BadSignatureError:
        return False
    return True


def verify(key: ed25519.Ed25519PublicKey, public: bytes, signature: bytes, message: bytes) -> None:
    """Verify ``signature`` over ``message`` under ``key`` (whose raw bytes are ``public``).

    Raises :class:`cryptography.exceptions.InvalidSignature` exactly when
    ``key.verify(signature, message)`` would: libsodium answers the signatures it accepts, OpenSSL
    every other (see the module docs)."""
    if not sodium_accepts(public, signature, message):
        key.verify(signature, message)
