"""Content-key disclosure: a recipient proves to a third party (an auditor) what a message said.

The recipient hands over the envelope and its content key. The auditor checks the sender's
signature, that the key matches the commitment the *sender* signed, and decrypts. Because the
commitment is signed, the recipient cannot disclose a different key that yields another plaintext,
and because the envelope is signed, the sender cannot deny the content. No recipient private key is
ever disclosed, so the recipient's other messages stay confidential.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from pgs_hub.crypto import envelope as env
from pgs_hub.crypto import jwe, strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import MalformedError
from pgs_hub.crypto.keys import VerifyKey

DISCLOSURE_VERSION = 1


@dataclass(frozen=True)
class ContentKeyDisclosure:
    """Names an envelope by its SHA-256 and gives its content key."""

    envelope_sha256: bytes
    content_key: bytes

    def __repr__(self) -> str:
        return f"ContentKeyDisclosure(envelope_sha256={self.envelope_sha256.hex()})"

    def to_json(self) -> bytes:
        return strictjson.dumps(
            {
                "v": DISCLOSURE_VERSION,
                "envelope_sha256": b64u_encode(self.envelope_sha256),
                "cek": b64u_encode(self.content_key),
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> ContentKeyDisclosure:
        obj = strictjson.loads(data, what="disclosure", max_bytes=1024, max_depth=1)
        strictjson.require_members(
            obj, what="disclosure", required=frozenset({"v", "envelope_sha256", "cek"})
        )
        if type(obj["v"]) is not int or obj["v"] != DISCLOSURE_VERSION:
            raise MalformedError(f"disclosure version {obj['v']!r} is not {DISCLOSURE_VERSION}")
        digest = b64u_decode(
            strictjson.get_str(obj, "envelope_sha256", what="disclosure", max_len=43),
            field="envelope_sha256",
        )
        cek = b64u_decode(
            strictjson.get_str(obj, "cek", what="disclosure", max_len=43), field="cek"
        )
        if len(digest) != 32 or len(cek) != jwe.CEK_BYTES:
            raise MalformedError("disclosure digest and key must both be 32 bytes")
        return cls(digest, cek)


def disclose(opened: env.OpenedEnvelope) -> ContentKeyDisclosure:
    """What a recipient hands to an auditor alongside the envelope bytes."""
    return ContentKeyDisclosure(opened.envelope.sha256, opened.content_key)


def verify_disclosure(
    raw_envelope: bytes,
    disclosure: ContentKeyDisclosure,
    sender: VerifyKey,
    *,
    profile: env.EnvelopeProfile,
) -> env.OpenedEnvelope:
    """Check a disclosure end to end and return the opened envelope; raises on any mismatch."""
    if not hmac.compare_digest(env.envelope_digest(raw_envelope), disclosure.envelope_sha256):
        raise MalformedError("the disclosure names a different envelope")
    verified = env.verify(env.parse(raw_envelope, profile=profile), sender)
    plaintext = jwe.decrypt_with_key(verified.jwe, disclosure.content_key, profile=profile.jwe)
    return env.OpenedEnvelope(verified, plaintext, disclosure.content_key)
