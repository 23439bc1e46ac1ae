"""JWS in flattened JSON serialization (RFC 7515 §7.2.2) with EdDSA/Ed25519 (RFC 8037) only.

Parsing and verifying are separate steps so that a caller can read the key id and protected header,
look the key up, and then verify; the verified payload is only returned by :func:`verify`. The
signature covers the exact protected-header and payload bytes as received: nothing is re-encoded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from pgs_hub.crypto import strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import InvalidKeyError, SignatureError, UnsupportedAlgorithmError
from pgs_hub.crypto.jose_headers import check_header
from pgs_hub.crypto.keys import SigningKey, VerifyKey, check_key_id

ALG = "EdDSA"
_MEMBERS = frozenset({"payload", "protected", "signature"})
_HEADER = frozenset({"alg", "kid", "typ"})
MAX_PROTECTED_BYTES = 4096
#: A flattened JWS is one object of three strings: more JSON values are refused before parsing.
MAX_VALUES = 64


@dataclass(frozen=True)
class UnverifiedJws:
    """A structurally valid JWS whose signature has not been checked yet."""

    protected: dict[str, Any]
    kid: str
    typ: str
    signing_input: bytes
    payload: bytes
    signature: bytes


@functools.lru_cache(maxsize=64)
def _protected(kid: str, typ: str) -> str:
    """The encoded protected header of a signer's JWS of one type: the same text every time (the
    hub signs an acceptance per envelope, all with this header), so it is made once."""
    return b64u_encode(strictjson.dumps({"alg": ALG, "kid": kid, "typ": typ}))


def sign(payload: bytes, signer: SigningKey, *, typ: str) -> bytes:
    """Sign ``payload`` and return the flattened JWS JSON as bytes."""
    protected = _protected(signer.kid, typ)
    payload_b64 = b64u_encode(payload)
    signature = signer.sign(f"{protected}.{payload_b64}".encode("ascii"))
    return strictjson.dumps(
        {"payload": payload_b64, "protected": protected, "signature": b64u_encode(signature)}
    )


def parse(raw: bytes, *, typ: str, what: str = "JWS", max_bytes: int) -> UnverifiedJws:
    """Check the structure of a flattened JWS of type ``typ``; does not verify the signature."""
    obj = strictjson.loads(raw, what=what, max_bytes=max_bytes, max_depth=2, max_values=MAX_VALUES)
    strictjson.require_members(obj, what=what, required=_MEMBERS)
    protected_b64 = strictjson.get_str(obj, "protected", what=what, max_len=MAX_PROTECTED_BYTES)
    payload_b64 = strictjson.get_str(obj, "payload", what=what, max_len=len(raw))
    signature_b64 = strictjson.get_str(obj, "signature", what=what, max_len=86)
    protected_bytes = b64u_decode(protected_b64, field=f"{what} protected header")
    # Depth 3 so that a forbidden parameter with an object value (jwk, crit, x5c) is reported as
    # forbidden, not as too deep; every allowed parameter is a plain string.
    protected = strictjson.loads(
        protected_bytes, what=f"{what} protected header", max_bytes=MAX_PROTECTED_BYTES, max_depth=3
    )
    check_header(protected, what=f"{what} protected header", required=_HEADER, optional=frozenset())
    if protected["alg"] != ALG:
        raise UnsupportedAlgorithmError(f"{what} alg {protected['alg']!r} is not {ALG}")
    if protected["typ"] != typ:
        raise UnsupportedAlgorithmError(f"{what} typ {protected['typ']!r} is not {typ!r}")
    kid = check_key_id(protected["kid"], what=f"{what} kid")
    signature = b64u_decode(signature_b64, field=f"{what} signature")
    if len(signature) != 64:
        raise SignatureError(f"{what} signature must be 64 bytes")
    payload = b64u_decode(payload_b64, field=f"{what} payload")  # also proves it is ASCII
    return UnverifiedJws(
        protected=protected,
        kid=kid,
        typ=typ,
        signing_input=f"{protected_b64}.{payload_b64}".encode("ascii"),
        payload=payload,
        signature=signature,
    )


def verify(jws: UnverifiedJws, key: VerifyKey) -> bytes:
    """Verify ``jws`` under ``key`` and return its payload; raise :class:`SignatureError` if not."""
    if key.kid != jws.kid:
        raise InvalidKeyError("the JWS names a different signing key (kid mismatch)")
    try:
        key.verify(jws.signature, jws.signing_input)
    except InvalidSignature as exc:
        raise SignatureError("the signature does not verify under the sender's key") from exc
    return jws.payload
