"""The strict profile, one named case per rule.

Every invalid envelope is made by editing a real sealed envelope (the ``forge`` fixture). Where
the edit touches signed bytes the forge re-signs with the sender's key, so the error raised is the
profile check under test and not the signature check. Each case names the exact error class (not
a parent class) and a fragment of its message.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from pgs_hub.crypto import jwe, jws, strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.disclosure import ContentKeyDisclosure, disclose, verify_disclosure
from pgs_hub.crypto.envelope import (
    EnvelopeProfile,
    OpenedEnvelope,
    open_envelope,
    parse,
    seal,
    verify,
)
from pgs_hub.crypto.errors import (
    CommitmentError,
    CryptoError,
    DecryptionError,
    DuplicateKeyError,
    EncodingError,
    ForbiddenHeaderError,
    InvalidKeyError,
    LowOrderKeyError,
    MalformedError,
    NotARecipientError,
    OversizeError,
    SignatureError,
    TrailingDataError,
    UnsupportedAlgorithmError,
)
from pgs_hub.crypto.keys import DecryptionKey, KeySet, RecipientKey

if TYPE_CHECKING:
    from conftest import EnvelopeForge

Build = Callable[["EnvelopeForge"], bytes]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def open_as(forge: EnvelopeForge, raw: bytes, key: DecryptionKey | None = None) -> OpenedEnvelope:
    """The receiving side, in order: parse, verify against the true sender, open."""
    verified = verify(parse(raw, profile=forge.profile), forge.sender.signing.public)
    recipient = forge.recipients[0].decryption if key is None else key
    return open_envelope(verified, recipient, profile=forge.profile)


# --- small text tools -----------------------------------------------------------------------------


def append(obj: bytes, name: str, raw_value: str) -> bytes:
    """``obj`` (a serialized JSON object) with ``"name":raw_value`` appended, verbatim."""
    assert obj.endswith(b"}")
    return obj[:-1] + b"," + json.dumps(name).encode() + b":" + raw_value.encode() + b"}"


def set_unused_bit(text: str) -> str:
    """The same bytes, spelled with a non-zero unused trailing bit (a second spelling)."""
    unused_bits = {2: 4, 3: 2}[len(text) % 4]
    last = ALPHABET.index(text[-1])
    assert last % (1 << unused_bits) == 0
    changed = text[:-1] + ALPHABET[last | 1]

    def lenient(t: str) -> bytes:
        return base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))

    assert lenient(changed) == lenient(text)
    return changed


def padded(data: bytes) -> str:
    """base64url *with* padding; ``data`` must not be a multiple of 3 bytes long."""
    text = base64.urlsafe_b64encode(data).decode("ascii")
    assert text.endswith("=")
    return text


def needing_padding(obj: bytes) -> bytes:
    """The same JSON object with 0-2 spaces after ``{`` so that its length is not a multiple
    of 3 (legal JSON white space: the signed bytes are whatever we send)."""
    for spaces in range(3):
        candidate = b"{" + b" " * spaces + obj[1:]
        if len(candidate) % 3:
            return candidate
    raise AssertionError("unreachable")


def not_a_multiple_of_3(text: str) -> bytes:
    """The decoded bytes of ``text``, one byte longer if needed so that padding is due."""
    data = b64u_decode(text)
    return data if len(data) % 3 else data + b"\x00"


def signature_in_standard_alphabet(f: EnvelopeForge) -> bytes:
    """A validly signed envelope whose signature is then spelled with '+' and '/' (the standard
    alphabet). White space in the header varies the signature until one has '-' or '_'."""
    header = strictjson.dumps(f.jws_header())
    for spaces in range(64):
        outer = json.loads(f.with_jws_header(b"{" + b" " * spaces + header[1:]))
        signature: str = outer["signature"]
        changed = signature.translate(str.maketrans("-_", "+/"))
        if changed != signature:
            return strictjson.dumps({**outer, "signature": changed})
    raise AssertionError("no signature with '-' or '_' in 64 tries")


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# --- builders: each returns a function of the forge -----------------------------------------------


def outer_text(edit: Callable[[bytes], bytes]) -> Build:
    return lambda f: edit(f.raw)


def outer_with(changes: Mapping[str, Any], drop: tuple[str, ...] = ()) -> Build:
    def build(f: EnvelopeForge) -> bytes:
        outer = {**f.outer(), **changes}
        for name in drop:
            del outer[name]
        return strictjson.dumps(outer)

    return build


def jws_header_text(edit: Callable[[bytes], bytes]) -> Build:
    return lambda f: f.with_jws_header(edit(strictjson.dumps(f.jws_header())))


def jws_header_with(changes: Mapping[str, Any], drop: tuple[str, ...] = ()) -> Build:
    def build(f: EnvelopeForge) -> bytes:
        header = {**f.jws_header(), **changes}
        for name in drop:
            del header[name]
        return f.with_jws_header(header)

    return build


def jwe_text(edit: Callable[[bytes], bytes]) -> Build:
    return lambda f: f.with_jwe(edit(f.jwe_bytes()))


def jwe_with(changes: Mapping[str, Any], drop: tuple[str, ...] = ()) -> Build:
    def build(f: EnvelopeForge) -> bytes:
        obj = {**f.jwe(), **changes}
        for name in drop:
            del obj[name]
        return f.with_jwe(obj)

    return build


def jwe_header_text(edit: Callable[[bytes], bytes]) -> Build:
    return lambda f: f.with_jwe_header(edit(strictjson.dumps(f.jwe_header())))


def jwe_header_with(changes: Mapping[str, Any], drop: tuple[str, ...] = ()) -> Build:
    def build(f: EnvelopeForge) -> bytes:
        header = {**f.jwe_header(), **changes}
        for name in drop:
            del header[name]
        return f.with_jwe_header(header)

    return build


def app_header_raw(raw_value: str) -> Build:
    """The JWE protected header with the application header replaced by raw JSON text."""

    def build(f: EnvelopeForge) -> bytes:
        header = {k: v for k, v in f.jwe_header().items() if k != "app"}
        return f.with_jwe_header(append(strictjson.dumps(header), "app", raw_value))

    return build


def recipient_header_with(changes: Mapping[str, Any], drop: tuple[str, ...] = ()) -> Build:
    return lambda f: f.with_recipient_header(0, changes, drop=drop)


def recipient_with(edit: Callable[[dict[str, Any]], None], index: int = 0) -> Build:
    def build(f: EnvelopeForge) -> bytes:
        obj = f.jwe()
        edit(obj["recipients"][index])
        return f.with_jwe(obj)

    return build


def epk_with(changes: Mapping[str, Any], drop: tuple[str, ...] = ()) -> Build:
    def build(f: EnvelopeForge) -> bytes:
        obj = f.jwe()
        epk = obj["recipients"][0]["header"]["epk"]
        epk.update(changes)
        for name in drop:
            del epk[name]
        return f.with_jwe(obj)

    return build


def in_jwe_text(old: Callable[[EnvelopeForge], str], new: Callable[[EnvelopeForge], str]) -> Build:
    """Replace one exact piece of the JWE JSON text (for duplicates inside nested objects)."""

    def build(f: EnvelopeForge) -> bytes:
        text = f.jwe_bytes().decode()
        assert text.count(old(f)) == 1
        return f.with_jwe(text.replace(old(f), new(f)))

    return build


def kid0(f: EnvelopeForge) -> str:
    return f.recipients[0].decryption.kid


def kid1(f: EnvelopeForge) -> str:
    return f.recipients[1].decryption.kid


def epk_x0(f: EnvelopeForge) -> str:
    x: str = f.jwe()["recipients"][0]["header"]["epk"]["x"]
    return x


# --- the table ------------------------------------------------------------------------------------

FORBIDDEN_HEADERS: dict[str, Any] = {
    "crit": ["app"],
    "zip": "DEF",
    "jku": "https://attacker.example/jwks.json",
    "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
    "x5u": "https://attacker.example/cert.pem",
    "x5c": ["MIIBszCCAVmgAwIBAgIUAttacker"],
    "x5t": "dGh1bWJwcmludC1zaGEx",
    "x5t#S256": "dGh1bWJwcmludC1zaGEyNTY",
    "b64": False,
    "p2s": "c2FsdA",
    "p2c": 1000,
    "apu": "QWxpY2U",
    "apv": "Qm9i",
}

# Regression: the JWS protected header was once parsed with max_depth=1 before the forbidden-header
# check, so ``crit``, ``jwk`` and ``x5c`` (array or object values) were refused as "too deep"
# instead of as forbidden.


def _forbidden_cases() -> list[Any]:
    params = []
    for name, value in FORBIDDEN_HEADERS.items():
        message = f"uses header parameter {name!r}, which this profile forbids"
        slug = name.replace("#", "-")
        params += [
            pytest.param(
                jws_header_with({name: value}),
                ForbiddenHeaderError,
                f"envelope protected header {message}",
                id=f"forbidden-{slug}-in-jws-header",
            ),
            pytest.param(
                jwe_header_with({name: value}),
                ForbiddenHeaderError,
                f"JWE protected header {message}",
                id=f"forbidden-{slug}-in-jwe-header",
            ),
            pytest.param(
                recipient_header_with({name: value}),
                ForbiddenHeaderError,
                f"JWE recipients[0] header {message}",
                id=f"forbidden-{slug}-in-recipient-header",
            ),
        ]
    return params


CASES = [
    # duplicate member names (RFC 7515 §5.2) at every level
    pytest.param(
        outer_text(lambda raw: append(raw, "payload", '"e30"')),
        DuplicateKeyError,
        "duplicate JSON member 'payload'",
        id="duplicate-outer-payload",
    ),
    pytest.param(
        outer_text(lambda raw: append(raw, "signature", json.dumps("A" * 86))),
        DuplicateKeyError,
        "duplicate JSON member 'signature'",
        id="duplicate-outer-signature",
    ),
    pytest.param(
        jws_header_text(lambda h: append(h, "alg", '"none"')),
        DuplicateKeyError,
        "duplicate JSON member 'alg'",
        id="duplicate-jws-header-alg",
    ),
    pytest.param(
        jws_header_text(lambda h: append(h, "kid", json.dumps("A" * 43))),
        DuplicateKeyError,
        "duplicate JSON member 'kid'",
        id="duplicate-jws-header-kid",
    ),
    pytest.param(
        jwe_text(lambda j: append(j, "ciphertext", '"AAAA"')),
        DuplicateKeyError,
        "duplicate JSON member 'ciphertext'",
        id="duplicate-jwe-ciphertext",
    ),
    pytest.param(
        jwe_text(lambda j: append(j, "recipients", "[]")),
        DuplicateKeyError,
        "duplicate JSON member 'recipients'",
        id="duplicate-jwe-recipients",
    ),
    pytest.param(
        in_jwe_text(
            lambda f: f'"kid":"{kid0(f)}"', lambda f: f'"kid":"{kid0(f)}","kid":"{kid1(f)}"'
        ),
        DuplicateKeyError,
        "duplicate JSON member 'kid'",
        id="duplicate-recipient-header-kid",
    ),
    pytest.param(
        in_jwe_text(
            lambda f: f'"x":"{epk_x0(f)}"', lambda f: f'"x":"{epk_x0(f)}","x":"{"A" * 43}"'
        ),
        DuplicateKeyError,
        "duplicate JSON member 'x'",
        id="duplicate-epk-x",
    ),
    pytest.param(
        jwe_header_text(lambda h: append(h, "enc", '"A128GCM"')),
        DuplicateKeyError,
        "duplicate JSON member 'enc'",
        id="duplicate-jwe-header-enc",
    ),
    pytest.param(
        jwe_header_text(lambda h: append(h, "kcm", json.dumps("A" * 43))),
        DuplicateKeyError,
        "duplicate JSON member 'kcm'",
        id="duplicate-jwe-header-kcm",
    ),
    pytest.param(
        app_header_raw('{"v":"test/1","kind":"notice","kind":"alert"}'),
        DuplicateKeyError,
        "duplicate JSON member 'kind'",
        id="duplicate-inside-app-header",
    ),
    # text after the value
    pytest.param(
        outer_text(lambda raw: raw + b" "),
        TrailingDataError,
        "envelope has 1 characters after the JSON value",
        id="trailing-space",
    ),
    pytest.param(
        outer_text(lambda raw: raw + b"\n"),
        TrailingDataError,
        "envelope has 1 characters after the JSON value",
        id="trailing-newline",
    ),
    pytest.param(
        outer_text(lambda raw: raw + b"\r\n"),
        TrailingDataError,
        "envelope has 2 characters after the JSON value",
        id="trailing-crlf",
    ),
    pytest.param(
        outer_text(lambda raw: raw + raw),
        TrailingDataError,
        "characters after the JSON value",
        id="trailing-second-object",
    ),
    pytest.param(
        outer_text(lambda raw: raw + b"\x00"),
        TrailingDataError,
        "envelope has 1 characters after the JSON value",
        id="trailing-nul",
    ),
    pytest.param(
        jws_header_text(lambda h: h + b"{}"),
        TrailingDataError,
        "envelope protected header has 2 characters after the JSON value",
        id="trailing-object-in-jws-header",
    ),
    pytest.param(
        jwe_text(lambda j: j + b"\n"),
        TrailingDataError,
        "JWE has 1 characters after the JSON value",
        id="trailing-newline-in-jwe",
    ),
    pytest.param(
        jwe_header_text(lambda h: h + b" "),
        TrailingDataError,
        "JWE protected header has 1 characters after the JSON value",
        id="trailing-space-in-jwe-header",
    ),
    pytest.param(
        outer_text(lambda raw: b" " + raw),
        MalformedError,
        "envelope is not valid JSON (line 1, column 1): Expecting value",
        id="leading-space",
    ),
    # byte-order marks
    pytest.param(
        outer_text(lambda raw: b"\xef\xbb\xbf" + raw),
        MalformedError,
        "envelope starts with a byte-order mark",
        id="bom-outer",
    ),
    pytest.param(
        jws_header_text(lambda h: b"\xef\xbb\xbf" + h),
        MalformedError,
        "envelope protected header starts with a byte-order mark",
        id="bom-jws-header",
    ),
    pytest.param(
        jwe_text(lambda j: b"\xef\xbb\xbf" + j),
        MalformedError,
        "JWE starts with a byte-order mark",
        id="bom-jwe",
    ),
    pytest.param(
        jwe_header_text(lambda h: b"\xef\xbb\xbf" + h),
        MalformedError,
        "JWE protected header starts with a byte-order mark",
        id="bom-jwe-header",
    ),
    # not UTF-8
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":"caf\xe9"}'),
        MalformedError,
        "envelope is not UTF-8",
        id="non-utf8-latin1-byte",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":"\xc0\xaf"}'),
        MalformedError,
        "envelope is not UTF-8",
        id="non-utf8-overlong",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":"\xed\xa0\x80"}'),
        MalformedError,
        "envelope is not UTF-8",
        id="non-utf8-encoded-surrogate",
    ),
    pytest.param(
        outer_text(lambda raw: raw.decode().encode("utf-16")),
        MalformedError,
        "envelope is not UTF-8",
        id="non-utf8-utf16-with-bom",
    ),
    pytest.param(
        outer_text(lambda raw: raw.decode().encode("utf-16-le")),
        MalformedError,
        "envelope is not valid JSON",
        id="non-utf8-utf16le-reads-as-nul-bytes",
    ),
    pytest.param(
        jws_header_text(lambda h: h.replace(b'"EdDSA"', b'"EdDSA\xff"')),
        MalformedError,
        "envelope protected header is not UTF-8",
        id="non-utf8-jws-header",
    ),
    pytest.param(
        jwe_text(lambda j: j[:-1] + b',"x":"\xff"}'),
        MalformedError,
        "JWE is not UTF-8",
        id="non-utf8-jwe",
    ),
    pytest.param(
        jwe_header_text(lambda h: h.replace(b'"A256GCM"', b'"A256GCM\x80"')),
        MalformedError,
        "JWE protected header is not UTF-8",
        id="non-utf8-jwe-header",
    ),
    # base64url: one spelling per byte string
    pytest.param(
        lambda f: f.sign(protected_b64=padded(needing_padding(strictjson.dumps(f.jws_header())))),
        EncodingError,
        "envelope protected header is not unpadded base64url",
        id="base64-padding-jws-header",
    ),
    pytest.param(
        lambda f: f.sign(payload_b64=padded(needing_padding(f.jwe_bytes()))),
        EncodingError,
        "envelope payload is not unpadded base64url",
        id="base64-padding-payload",
    ),
    pytest.param(
        lambda f: f.with_jwe(
            {**f.jwe(), "ciphertext": padded(not_a_multiple_of_3(f.jwe()["ciphertext"]))}
        ),
        EncodingError,
        "JWE ciphertext is not unpadded base64url",
        id="base64-padding-ciphertext",
    ),
    pytest.param(
        lambda f: strictjson.dumps({**f.outer(), "signature": f.outer()["signature"] + "=="}),
        OversizeError,
        "envelope.signature is longer than 86 characters",
        id="base64-padding-signature-is-too-long",
    ),
    pytest.param(
        signature_in_standard_alphabet,
        EncodingError,
        "envelope signature is not unpadded base64url",
        id="base64-standard-alphabet-signature",
    ),
    pytest.param(
        jwe_with({"iv": base64.b64encode(b"\xfb\xff\xbf" * 4).decode()}),
        EncodingError,
        "JWE iv is not unpadded base64url",
        id="base64-standard-alphabet-iv",
    ),
    pytest.param(
        jwe_with({"iv": "Zm9v IGJh"}),
        EncodingError,
        "JWE iv is not unpadded base64url",
        id="base64-white-space-iv",
    ),
    pytest.param(
        lambda f: strictjson.dumps(
            {**f.outer(), "signature": set_unused_bit(f.outer()["signature"])}
        ),
        EncodingError,
        "envelope signature is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-signature",
    ),
    pytest.param(
        lambda f: f.with_jws_header(
            {**f.jws_header(), "kid": set_unused_bit(f.sender.signing.kid)}
        ),
        EncodingError,
        "envelope kid is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-jws-kid",
    ),
    pytest.param(
        lambda f: f.with_jwe_header(
            {**f.jwe_header(), "kcm": set_unused_bit(f.jwe_header()["kcm"])}
        ),
        EncodingError,
        "kcm is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-kcm",
    ),
    pytest.param(
        lambda f: f.with_jwe({**f.jwe(), "tag": set_unused_bit(f.jwe()["tag"])}),
        EncodingError,
        "JWE tag is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-tag",
    ),
    pytest.param(
        recipient_with(lambda r: r.update(encrypted_key=set_unused_bit(r["encrypted_key"]))),
        EncodingError,
        "encrypted_key is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-encrypted-key",
    ),
    pytest.param(
        recipient_with(
            lambda r: r["header"]["epk"].update(x=set_unused_bit(r["header"]["epk"]["x"]))
        ),
        EncodingError,
        "epk x is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-epk-x",
    ),
    pytest.param(
        recipient_with(lambda r: r["header"].update(kid=set_unused_bit(r["header"]["kid"]))),
        EncodingError,
        "JWE recipients[0] kid is not canonical base64url (non-zero trailing bits)",
        id="base64-trailing-bits-recipient-kid",
    ),
    pytest.param(
        lambda f: f.with_jwe(
            {
                **f.jwe(),
                "ciphertext": f.jwe()["ciphertext"] + "A" * ((1 - len(f.jwe()["ciphertext"])) % 4),
            }
        ),
        EncodingError,
        "JWE ciphertext has an impossible base64url length",
        id="base64-impossible-length-ciphertext",
    ),
    # algorithms, types and content types: no negotiation
    pytest.param(
        jws_header_with({"alg": "Ed25519"}),
        UnsupportedAlgorithmError,
        "envelope alg 'Ed25519' is not EdDSA",
        id="jws-alg-ed25519-rfc9864",
    ),
    pytest.param(
        jws_header_with({"alg": "none"}),
        UnsupportedAlgorithmError,
        "envelope alg 'none' is not EdDSA",
        id="jws-alg-none",
    ),
    pytest.param(
        jws_header_with({"alg": "HS256"}),
        UnsupportedAlgorithmError,
        "envelope alg 'HS256' is not EdDSA",
        id="jws-alg-hs256",
    ),
    pytest.param(
        jws_header_with({"alg": "eddsa"}),
        UnsupportedAlgorithmError,
        "envelope alg 'eddsa' is not EdDSA",
        id="jws-alg-lower-case",
    ),
    pytest.param(
        jws_header_with({"typ": "JWT"}),
        UnsupportedAlgorithmError,
        "envelope typ 'JWT' is not 'test-envelope+jws'",
        id="jws-typ-jwt",
    ),
    pytest.param(
        jws_header_with({"typ": "pgs-receipt+jose"}),
        UnsupportedAlgorithmError,
        "envelope typ 'pgs-receipt+jose' is not 'test-envelope+jws'",
        id="jws-typ-of-another-document",
    ),
    pytest.param(
        jwe_header_with({"enc": "A128GCM"}),
        UnsupportedAlgorithmError,
        "JWE enc 'A128GCM' is not A256GCM",
        id="jwe-enc-a128gcm",
    ),
    pytest.param(
        jwe_header_with({"enc": "A256CBC-HS512"}),
        UnsupportedAlgorithmError,
        "JWE enc 'A256CBC-HS512' is not A256GCM",
        id="jwe-enc-a256cbc-hs512",
    ),
    pytest.param(
        jwe_header_with({"cty": "application/json"}),
        UnsupportedAlgorithmError,
        "JWE cty 'application/json' is not 'test+json'",
        id="jwe-cty-json",
    ),
    pytest.param(
        jwe_header_with({"cty": "TEST+JSON"}),
        UnsupportedAlgorithmError,
        "JWE cty 'TEST+JSON' is not 'test+json'",
        id="jwe-cty-upper-case",
    ),
    pytest.param(
        recipient_header_with({"alg": "ECDH-ES"}),
        UnsupportedAlgorithmError,
        "JWE recipients[0] alg 'ECDH-ES' is not ECDH-ES+A256KW",
        id="recipient-alg-ecdh-es-direct",
    ),
    pytest.param(
        recipient_header_with({"alg": "ECDH-ES+A128KW"}),
        UnsupportedAlgorithmError,
        "JWE recipients[0] alg 'ECDH-ES+A128KW' is not ECDH-ES+A256KW",
        id="recipient-alg-ecdh-es-a128kw",
    ),
    pytest.param(
        recipient_header_with({"alg": "RSA-OAEP-256"}),
        UnsupportedAlgorithmError,
        "JWE recipients[0] alg 'RSA-OAEP-256' is not ECDH-ES+A256KW",
        id="recipient-alg-rsa-oaep",
    ),
    pytest.param(
        epk_with({"crv": "X448"}),
        UnsupportedAlgorithmError,
        "JWE recipients[0] epk must be an OKP X25519 key",
        id="epk-crv-x448",
    ),
    pytest.param(
        epk_with({"crv": "Ed25519"}),
        UnsupportedAlgorithmError,
        "JWE recipients[0] epk must be an OKP X25519 key",
        id="epk-crv-ed25519",
    ),
    pytest.param(
        epk_with({"kty": "EC"}),
        UnsupportedAlgorithmError,
        "JWE recipients[0] epk must be an OKP X25519 key",
        id="epk-kty-ec",
    ),
    # members: exactly the profile's, no more, no fewer
    pytest.param(
        outer_with({"header": {"kid": "x"}}),
        MalformedError,
        "envelope has member(s) the profile does not allow: header",
        id="extra-outer-unprotected-header",
    ),
    pytest.param(
        outer_with({"signatures": []}, drop=("protected", "signature")),
        MalformedError,
        "envelope lacks required member(s): protected, signature",
        id="general-jws-serialization",
    ),
    pytest.param(
        outer_with({}, drop=("signature",)),
        MalformedError,
        "envelope lacks required member(s): signature",
        id="missing-signature",
    ),
    pytest.param(
        outer_text(lambda raw: b"[" + raw + b"]"),
        MalformedError,
        "envelope must be a JSON object",
        id="outer-is-an-array",
    ),
    # Regression: jws.parse once built the signing input with .encode("ascii") before checking
    # the payload's alphabet, so a non-ASCII payload escaped as a bare UnicodeEncodeError.
    pytest.param(
        lambda f: strictjson.dumps({**f.outer(), "payload": "\u00e9" + f.outer()["payload"]}),
        EncodingError,
        "envelope payload is not unpadded base64url",
        id="payload-with-a-non-ascii-character",
    ),
    pytest.param(
        outer_text(lambda raw: raw.replace(b'"payload":"', b'"payload":"\\u00e9', 1)),
        EncodingError,
        "envelope payload is not unpadded base64url",
        id="payload-with-a-unicode-escape",
    ),
    pytest.param(
        outer_with({"payload": 1}),
        MalformedError,
        "envelope.payload must be a string",
        id="payload-is-a-number",
    ),
    pytest.param(
        jws_header_with({"cty": "test+json"}),
        MalformedError,
        "envelope protected header has header parameter(s) outside the profile: cty",
        id="extra-jws-header-cty",
    ),
    pytest.param(
        jws_header_with({}, drop=("typ",)),
        MalformedError,
        "envelope protected header lacks header parameter(s): typ",
        id="missing-jws-header-typ",
    ),
    pytest.param(
        lambda f: f.with_jws_header(b"[]"),
        MalformedError,
        "envelope protected header must be a JSON object",
        id="jws-header-is-an-array",
    ),
    pytest.param(
        jws_header_with({"kid": "sender"}),
        MalformedError,
        "envelope kid must be a 43-character JWK thumbprint",
        id="jws-kid-not-a-thumbprint",
    ),
    pytest.param(
        jwe_with({"aad": "ZXh0cmE"}),
        MalformedError,
        "JWE has member(s) the profile does not allow: aad",
        id="extra-jwe-aad",
    ),
    pytest.param(
        jwe_with({"unprotected": {"jku": "https://attacker.example"}}),
        MalformedError,
        "JWE has member(s) the profile does not allow: unprotected",
        id="extra-jwe-unprotected",
    ),
    pytest.param(
        lambda f: f.with_jwe(
            {
                **{k: v for k, v in f.jwe().items() if k != "recipients"},
                **f.jwe()["recipients"][0],
            }
        ),
        MalformedError,
        "JWE lacks required member(s): recipients",
        id="flattened-jwe-serialization",
    ),
    pytest.param(
        lambda f: f.with_jwe(b"[]"),
        MalformedError,
        "JWE must be a JSON object",
        id="jwe-is-an-array",
    ),
    pytest.param(
        jwe_header_with({"typ": "JWE"}),
        MalformedError,
        "JWE protected header has header parameter(s) outside the profile: typ",
        id="extra-jwe-header-typ",
    ),
    pytest.param(
        jwe_header_with({}, drop=("kcm",)),
        MalformedError,
        "JWE protected header lacks header parameter(s): kcm",
        id="missing-jwe-header-kcm",
    ),
    pytest.param(
        jwe_header_with({"app": "not an object"}),
        MalformedError,
        "JWE protected header 'app' must be an object",
        id="app-header-not-an-object",
    ),
    pytest.param(
        recipient_with(lambda r: r.update(foo=1)),
        MalformedError,
        "JWE recipients[0] has member(s) the profile does not allow: foo",
        id="extra-recipient-member",
    ),
    pytest.param(
        recipient_header_with({"skid": "sender"}),
        MalformedError,
        "JWE recipients[0] header has header parameter(s) outside the profile: skid",
        id="extra-recipient-header-skid",
    ),
    pytest.param(
        recipient_header_with({}, drop=("epk",)),
        MalformedError,
        "JWE recipients[0] header lacks header parameter(s): epk",
        id="missing-recipient-epk",
    ),
    pytest.param(
        recipient_header_with({"kid": "Bob"}),
        MalformedError,
        "JWE recipients[0] kid must be a 43-character JWK thumbprint",
        id="recipient-kid-not-a-thumbprint",
    ),
    pytest.param(
        epk_with({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}),
        MalformedError,
        "JWE recipients[0] epk has member(s) the profile does not allow: d",
        id="extra-epk-private-part",
    ),
    pytest.param(
        epk_with({"kid": "ephemeral"}),
        MalformedError,
        "JWE recipients[0] epk has member(s) the profile does not allow: kid",
        id="extra-epk-kid",
    ),
    pytest.param(
        jwe_with({"recipients": []}),
        MalformedError,
        "JWE recipients must be a non-empty list",
        id="no-recipients",
    ),
    pytest.param(
        lambda f: f.with_jwe({**f.jwe(), "recipients": f.jwe()["recipients"][0]}),
        MalformedError,
        "JWE recipients must be a non-empty list",
        id="recipients-not-a-list",
    ),
    pytest.param(
        lambda f: f.with_jwe(
            {**f.jwe(), "recipients": [f.jwe()["recipients"][0], f.jwe()["recipients"][0]]}
        ),
        MalformedError,
        "JWE lists a recipient key twice",
        id="recipient-listed-twice",
    ),
    # sizes of the fixed-size fields
    pytest.param(
        jwe_with({"iv": b64u_encode(bytes(8))}),
        MalformedError,
        "JWE iv must be 12 bytes and tag 16 bytes",
        id="iv-8-bytes",
    ),
    pytest.param(
        jwe_with({"iv": b64u_encode(bytes(16))}),
        OversizeError,
        "JWE.iv is longer than 16 characters",
        id="iv-16-bytes",
    ),
    pytest.param(
        jwe_with({"tag": b64u_encode(bytes(12))}),
        MalformedError,
        "JWE iv must be 12 bytes and tag 16 bytes",
        id="tag-12-bytes",
    ),
    pytest.param(
        jwe_header_with({"kcm": b64u_encode(bytes(16))}),
        MalformedError,
        "JWE kcm must be a 32-byte HMAC-SHA256 value",
        id="kcm-16-bytes",
    ),
    pytest.param(
        recipient_with(lambda r: r.update(encrypted_key=b64u_encode(bytes(32)))),
        MalformedError,
        "JWE recipients[0] encrypted_key must be 40 bytes",
        id="encrypted-key-32-bytes",
    ),
    pytest.param(
        recipient_with(lambda r: r.update(encrypted_key=b64u_encode(bytes(48)))),
        OversizeError,
        "JWE recipients[0].encrypted_key is longer than 54 characters",
        id="encrypted-key-48-bytes",
    ),
    pytest.param(
        epk_with({"x": b64u_encode(bytes(31))}),
        MalformedError,
        "JWE recipients[0] epk x must be 32 bytes",
        id="epk-x-31-bytes",
    ),
    pytest.param(
        lambda f: strictjson.dumps(
            {**f.outer(), "signature": b64u_encode(b64u_decode(f.outer()["signature"])[:63])}
        ),
        SignatureError,
        "envelope signature must be 64 bytes",
        id="signature-63-bytes",
    ),
    # sizes and nesting
    pytest.param(
        lambda f: b"{" + b" " * f.profile.max_envelope_bytes + f.raw[1:],
        OversizeError,
        "envelope is larger than 6291456 bytes",
        id="oversize-envelope",
    ),
    pytest.param(
        lambda f: f.with_jwe({**f.jwe(), "recipients": [f.jwe()["recipients"][0]] * 513}),
        OversizeError,
        "JWE has more than 512 recipients",
        id="too-many-recipients",
    ),
    pytest.param(
        lambda f: f.with_jws_header({**f.jws_header(), "typ": "t" * 4096}),
        OversizeError,
        "envelope.protected is longer than 4096 characters",
        id="oversize-jws-header",
    ),
    pytest.param(
        jwe_header_with({"app": {"pad": "x" * (128 * 1024)}}),
        OversizeError,
        "JWE.protected is longer than 174763 characters",
        id="oversize-jwe-header",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":' + nested(2).encode() + b"}"),
        OversizeError,
        "envelope nests deeper than 2 levels",
        id="nesting-outer",
    ),
    pytest.param(
        jws_header_with({"typ": {"a": {"b": {"c": 1}}}}),
        OversizeError,
        "envelope protected header nests deeper than 3 levels",
        id="nesting-jws-header",
    ),
    pytest.param(
        jwe_text(lambda j: append(j, "x", nested(16))),
        OversizeError,
        "JWE nests deeper than 16 levels",
        id="nesting-jwe",
    ),
    pytest.param(
        app_header_raw(nested(16)),
        OversizeError,
        "JWE protected header nests deeper than 16 levels",
        id="nesting-app-header",
    ),
    # Bombs: millions of tiny values from a few megabytes are refused before parsing (they cost
    # seconds of CPU otherwise); a recursion bomb of the content parser is in test_message_errors.
    pytest.param(
        outer_text(lambda _raw: b"[" * 100_000 + b"]" * 100_000),
        OversizeError,
        "envelope holds more than 64 JSON values",
        id="nesting-recursion-bomb",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":[' + b"1," * 2_000_000 + b"1]}"),
        OversizeError,
        "envelope holds more than 64 JSON values",
        id="values-bomb-outer",
    ),
    pytest.param(
        lambda f: f.with_jwe({**f.jwe(), "recipients": [{}] * 100_000}),
        OversizeError,
        "JWE holds more than 8256 JSON values",
        id="values-bomb-jwe-recipients",
    ),
    pytest.param(
        jwe_text(lambda j: append(j, "x", "[" + "[]," * 9000 + "[]]")),
        OversizeError,
        "JWE holds more than 8256 JSON values",
        id="values-bomb-jwe-member",
    ),
    # NaN, Infinity and lone surrogates
    pytest.param(
        app_header_raw('{"n":NaN}'),
        MalformedError,
        "JSON constant NaN is not allowed",
        id="nan-in-app-header",
    ),
    pytest.param(
        app_header_raw('{"n":Infinity}'),
        MalformedError,
        "JSON constant Infinity is not allowed",
        id="infinity-in-app-header",
    ),
    pytest.param(
        app_header_raw('{"n":-Infinity}'),
        MalformedError,
        "JSON constant -Infinity is not allowed",
        id="minus-infinity-in-app-header",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":NaN}'),
        MalformedError,
        "JSON constant NaN is not allowed",
        id="nan-in-outer",
    ),
    pytest.param(
        jws_header_text(lambda h: append(h, "x", "NaN")),
        MalformedError,
        "JSON constant NaN is not allowed",
        id="nan-in-jws-header",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":' + b"1" * 5000 + b"}"),
        MalformedError,
        "envelope is not valid JSON: a number is too long",
        id="huge-integer-in-outer",
    ),
    pytest.param(
        app_header_raw('{"s":"\\ud800"}'),
        MalformedError,
        "JWE protected header contains a lone surrogate escape",
        id="lone-high-surrogate-in-app-header",
    ),
    pytest.param(
        app_header_raw('{"s":"\\udc00"}'),
        MalformedError,
        "JWE protected header contains a lone surrogate escape",
        id="lone-low-surrogate-in-app-header",
    ),
    pytest.param(
        app_header_raw('{"s":"\\udc00\\ud800"}'),
        MalformedError,
        "JWE protected header contains a lone surrogate escape",
        id="reversed-surrogate-pair-in-app-header",
    ),
    pytest.param(
        app_header_raw('{"\\ud800":1}'),
        MalformedError,
        "JWE protected header contains a lone surrogate escape",
        id="lone-surrogate-in-member-name",
    ),
    pytest.param(
        outer_text(lambda raw: raw[:-1] + b',"x":"\\ud800"}'),
        MalformedError,
        "envelope contains a lone surrogate escape",
        id="lone-surrogate-in-outer",
    ),
    pytest.param(
        jws_header_text(lambda h: h.replace(b'"EdDSA"', b'"EdDSA\\ud800"')),
        MalformedError,
        "envelope protected header contains a lone surrogate escape",
        id="lone-surrogate-in-jws-header",
    ),
    # keys: who signed, and for whom
    pytest.param(
        lambda f: f.with_jws_header({**f.jws_header(), "kid": f.recipients[0].signing.kid}),
        InvalidKeyError,
        "the JWS names a different signing key (kid mismatch)",
        id="jws-kid-of-another-participant",
    ),
    pytest.param(
        lambda f: f.with_jws_header({**f.jws_header(), "kid": f.sender.decryption.kid}),
        InvalidKeyError,
        "the JWS names a different signing key (kid mismatch)",
        id="jws-kid-of-the-senders-encryption-key",
    ),
    pytest.param(
        lambda f: f.with_jws_header(
            {**f.jws_header(), "kid": f.recipients[0].signing.kid},
            signer=f.recipients[0].signing,
        ),
        InvalidKeyError,
        "the JWS names a different signing key (kid mismatch)",
        id="signed-by-another-participant",
    ),
    pytest.param(
        lambda f: f.sign(signer=f.recipients[0].signing),
        SignatureError,
        "the signature does not verify under the sender's key",
        id="signed-by-another-participant-under-the-senders-kid",
    ),
    # Low-order X25519 points are refused when the envelope is parsed (so a hub refuses them at
    # submission, issue 12), not only when a recipient's key agreement gives all zeros.
    *(
        pytest.param(
            epk_with({"x": b64u_encode(bytes.fromhex(point))}),
            LowOrderKeyError,
            "JWE recipients[0] epk is a low-order X25519 point",
            id=f"epk-low-order-{name}",
        )
        for name, point in (
            ("zero", "00" * 32),
            ("order-1", "01" + "00" * 31),
            ("order-8-a", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            ("order-8-b", "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            ("p-minus-1", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            ("p", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            ("p-plus-1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            ("zero-high-bit", "00" * 31 + "80"),
        )
    ),
    pytest.param(
        lambda f: f.with_recipient_header(0, {"kid": f.sender.decryption.kid}),
        NotARecipientError,
        "this key is not among the envelope's recipients",
        id="recipient-entry-relabelled",
    ),
    pytest.param(
        lambda f: f.with_recipient_header(0, {"epk": f.jwe()["recipients"][1]["header"]["epk"]}),
        DecryptionError,
        "the content key could not be unwrapped",
        id="epk-of-another-recipient",
    ),
    pytest.param(
        recipient_with(
            lambda r: r.update(
                encrypted_key=b64u_encode(
                    bytes([b64u_decode(r["encrypted_key"])[0] ^ 1])
                    + b64u_decode(r["encrypted_key"])[1:]
                )
            )
        ),
        DecryptionError,
        "the content key could not be unwrapped",
        id="encrypted-key-bit-flip",
    ),
    # the content: AES-GCM over the protected header (after the commitment check passes)
    pytest.param(
        lambda f: f.with_jwe(
            {
                **f.jwe(),
                "ciphertext": b64u_encode(
                    bytes([b64u_decode(f.jwe()["ciphertext"])[0] ^ 1])
                    + b64u_decode(f.jwe()["ciphertext"])[1:]
                ),
            }
        ),
        DecryptionError,
        "the ciphertext or protected header was altered",
        id="ciphertext-bit-flip",
    ),
    pytest.param(
        lambda f: f.with_jwe({**f.jwe(), "tag": b64u_encode(bytes(16))}),
        DecryptionError,
        "the ciphertext or protected header was altered",
        id="tag-replaced",
    ),
    pytest.param(
        jwe_with({"iv": b64u_encode(bytes(12))}),
        DecryptionError,
        "the ciphertext or protected header was altered",
        id="iv-replaced",
    ),
    pytest.param(
        jwe_with({"iv": base64.urlsafe_b64encode(b"\xfb\xff\xbf" * 4).decode()}),
        DecryptionError,
        "the ciphertext or protected header was altered",
        id="control-url-safe-iv-parses-then-fails-gcm",
    ),
    pytest.param(
        lambda f: f.with_jwe_header({**f.jwe_header(), "app": {**f.jwe_header()["app"], "n": 8}}),
        DecryptionError,
        "the ciphertext or protected header was altered",
        id="app-header-changed-and-re-signed",
    ),
    *_forbidden_cases(),
]


def test_case_ids_are_unique() -> None:
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("build", "error", "message"), CASES)
def test_refused(
    forge: EnvelopeForge, build: Build, error: type[CryptoError], message: str
) -> None:
    raw = build(forge)
    with pytest.raises(error, match=re.escape(message)) as caught:
        open_as(forge, raw)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"


# --- the forge itself: an unedited rebuild is byte-identical and opens ----------------------------


def test_forge_rebuilds_the_exact_envelope(forge: EnvelopeForge, plaintext: bytes) -> None:
    assert open_as(forge, forge.raw).plaintext == plaintext
    assert forge.sign() == forge.raw
    assert forge.with_jws_header(forge.jws_header()) == forge.raw
    assert forge.with_jwe(forge.jwe()) == forge.raw
    assert forge.with_jwe_header(forge.jwe_header()) == forge.raw
    assert forge.with_recipient_header(0, {}) == forge.raw


def test_white_space_in_signed_json_is_accepted(forge: EnvelopeForge, plaintext: bytes) -> None:
    """We sign and verify exact bytes; legal JSON white space is not a second spelling of a
    *signature* (the control for the base64 padding cases, which add the same white space)."""
    header = needing_padding(strictjson.dumps(forge.jws_header()))
    assert open_as(forge, forge.sign(protected_b64=b64u_encode(header))).plaintext == plaintext
    payload = needing_padding(forge.jwe_bytes())
    assert open_as(forge, forge.sign(payload_b64=b64u_encode(payload))).plaintext == plaintext


def test_valid_surrogate_pair_in_the_app_header_is_accepted(
    profile: EnvelopeProfile, sender: KeySet, recipients: tuple[KeySet, ...]
) -> None:
    """Control for the lone-surrogate cases: a proper pair (an emoji) is fine."""
    raw = seal(
        profile=profile,
        app_header={"note": "\U0001f600 caf\u00e9"},
        plaintext=b"{}",
        signer=sender.signing,
        recipients=[recipients[0].decryption.public],
    )
    assert b"\\ud83d" not in raw  # sent as UTF-8, not as escapes
    verified = verify(parse(raw, profile=profile), sender.signing.public)
    assert verified.app_header == {"note": "\U0001f600 caf\u00e9"}


def handmade_with_commitment(forge: EnvelopeForge, app_raw: bytes) -> bytes:
    """A complete, correctly encrypted and signed envelope whose application header is the raw
    JSON text ``app_raw`` (valid commitment and tag: only that text is at issue)."""
    cek, iv = os.urandom(32), os.urandom(12)
    known = {
        "enc": "A256GCM",
        "cty": forge.profile.jwe.content_type,
        "kcm": b64u_encode(jwe.commitment(cek, forge.profile.jwe.commitment_label)),
    }
    header = append(strictjson.dumps(known), forge.profile.jwe.app_header, app_raw.decode())
    protected_b64 = b64u_encode(header)
    sealed = AESGCM(cek).encrypt(iv, b"{}", protected_b64.encode("ascii"))
    obj = {
        "protected": protected_b64,
        "recipients": [wrap_for(r.decryption.public, cek) for r in forge.recipients],
        "iv": b64u_encode(iv),
        "ciphertext": b64u_encode(sealed[:-16]),
        "tag": b64u_encode(sealed[-16:]),
    }
    return jws.sign(strictjson.dumps(obj), forge.sender.signing, typ=forge.profile.jws_typ)


def test_handmade_envelope_opens(forge: EnvelopeForge) -> None:
    """Control for the test below: the same construction with an ordinary number opens."""
    raw = handmade_with_commitment(forge, b'{"n":1e3}')
    opened = open_as(forge, raw)
    assert opened.envelope.app_header == {"n": 1000.0}
    assert opened.plaintext == b"{}"


# Regression: a number literal too large for a double (1e400) was read as float("inf"), Infinity
# under another spelling, which docs/protocol.md §3 says must be refused.
@pytest.mark.parametrize(
    "literal",
    [b"1e400", b"-1e400", b"1" + b"0" * 400 + b".0"],
    ids=["1e400", "minus-1e400", "400-digit-decimal"],
)
def test_number_overflowing_to_infinity_is_refused(forge: EnvelopeForge, literal: bytes) -> None:
    raw = handmade_with_commitment(forge, b'{"n":' + literal + b"}")
    with pytest.raises(MalformedError, match="JWE protected header"):
        open_as(forge, raw)


# --- key commitment -------------------------------------------------------------------------------


def wrap_for(recipient: RecipientKey, cek: bytes) -> dict[str, Any]:
    """A recipients[] entry wrapping ``cek`` for ``recipient``, as a sender would make it."""
    ephemeral = x25519.X25519PrivateKey.generate()
    kek = jwe._kek(jwe._agree(ephemeral, recipient.key))
    epk = RecipientKey.from_public(ephemeral.public_key())
    return {
        "header": {
            "alg": "ECDH-ES+A256KW",
            "kid": recipient.kid,
            "epk": {"kty": "OKP", "crv": "X25519", "x": b64u_encode(epk.raw())},
        },
        "encrypted_key": b64u_encode(aes_key_wrap(kek, cek)),
    }


@pytest.mark.parametrize("index", [0, 1, 2], ids=["recipient-1", "recipient-2", "recipient-3"])
@pytest.mark.parametrize(
    "kcm",
    [
        pytest.param(lambda _label: os.urandom(32), id="random"),
        pytest.param(lambda label: jwe.commitment(os.urandom(32), label), id="another-key"),
        pytest.param(lambda _label: jwe.commitment(os.urandom(32), b"x"), id="another-label"),
    ],
)
def test_altered_commitment_is_refused_by_every_recipient(
    forge: EnvelopeForge, index: int, kcm: Callable[[bytes], bytes]
) -> None:
    header = {**forge.jwe_header(), "kcm": b64u_encode(kcm(forge.profile.jwe.commitment_label))}
    raw = forge.with_jwe_header(header)
    verified = verify(parse(raw, profile=forge.profile), forge.sender.signing.public)
    with pytest.raises(CommitmentError, match="does not match the header's key commitment"):
        open_envelope(verified, forge.recipients[index].decryption, profile=forge.profile)


def test_envelope_of_another_application_fails_the_commitment(
    profile: EnvelopeProfile, sender: KeySet, recipients: tuple[KeySet, ...]
) -> None:
    """Same cty, typ and header, another commitment label: refused before decryption."""
    other = EnvelopeProfile(
        jws_typ=profile.jws_typ,
        jwe=jwe.JweProfile(
            content_type=profile.jwe.content_type,
            app_header=profile.jwe.app_header,
            commitment_label=b"another application",
        ),
    )
    raw = seal(
        profile=other,
        app_header={"v": "test/1"},
        plaintext=b"{}",
        signer=sender.signing,
        recipients=[recipients[0].decryption.public],
    )
    verified = verify(parse(raw, profile=profile), sender.signing.public)
    with pytest.raises(CommitmentError, match="key commitment"):
        open_envelope(verified, recipients[0].decryption, profile=profile)


def test_different_content_key_for_recipient_2_is_caught(
    forge: EnvelopeForge, plaintext: bytes
) -> None:
    """The brief's hand-made attempt: recipient 2's entry wraps another CEK; re-signed."""
    obj = forge.jwe()
    obj["recipients"][1] = wrap_for(forge.recipients[1].decryption.public, os.urandom(32))
    raw = forge.with_jwe(obj)
    assert open_as(forge, raw, forge.recipients[0].decryption).plaintext == plaintext
    assert open_as(forge, raw, forge.recipients[2].decryption).plaintext == plaintext
    with pytest.raises(CommitmentError, match="does not match the header's key commitment"):
        open_as(forge, raw, forge.recipients[1].decryption)


# A real invisible salamander: one AES-GCM ciphertext and tag that are valid under two keys.
# GHASH is linear in each ciphertext block, so one free block can be solved for so that both
# keys give the same tag (Dodis, Grubbs, Ristenpart, Woodage, CRYPTO 2018; Len, Grubbs,
# Ristenpart, USENIX Security 2021). GF(2^128) as in NIST SP 800-38D: bit 0 is the MSB.

_R = 0xE1 << 120
_ONE = 1 << 127


def _gf_mul(x: int, y: int) -> int:
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _gf_pow(x: int, n: int) -> int:
    result = _ONE
    while n:
        if n & 1:
            result = _gf_mul(result, x)
        x = _gf_mul(x, x)
        n >>= 1
    return result


def _blocks(data: bytes) -> list[int]:
    data += bytes(-len(data) % 16)
    return [int.from_bytes(data[i : i + 16], "big") for i in range(0, len(data), 16)]


def _aes(key: bytes, block: bytes) -> int:
    """AES_K(block), as the first CTR keystream block starting at ``block``."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(block)).encryptor()
    return int.from_bytes(encryptor.update(bytes(16)) + encryptor.finalize(), "big")


def _ghash_inputs(aad: bytes, ciphertext: bytes) -> list[int]:
    return [*_blocks(aad), *_blocks(ciphertext), (len(aad) * 8 << 64) | (len(ciphertext) * 8)]


def _gcm_tag(key: bytes, iv: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    h = _aes(key, bytes(16))
    y = 0
    for x in _ghash_inputs(aad, ciphertext):
        y = _gf_mul(y ^ x, h)
    return (y ^ _aes(key, iv + b"\x00\x00\x00\x01")).to_bytes(16, "big")


def salamander(k1: bytes, k2: bytes, iv: bytes, aad: bytes, prefix: bytes) -> bytes:
    """``prefix || B`` + tag, with block B chosen so the tag is the same under k1 and k2."""
    assert len(prefix) % 16 == 0
    h1, h2 = _aes(k1, bytes(16)), _aes(k2, bytes(16))
    j0 = iv + b"\x00\x00\x00\x01"
    xs = _ghash_inputs(aad, prefix + bytes(16))
    m, j = len(xs), len(_blocks(aad)) + len(prefix) // 16
    # sum_i X_i (H1^(m-i) + H2^(m-i)) = E_k1(J0) + E_k2(J0), solved for X_j
    acc = _aes(k1, j0) ^ _aes(k2, j0)
    for i, x in enumerate(xs):
        if i != j:
            acc ^= _gf_mul(x, _gf_pow(h1, m - i) ^ _gf_pow(h2, m - i))
    free = _gf_mul(acc, _gf_pow(_gf_pow(h1, m - j) ^ _gf_pow(h2, m - j), (1 << 128) - 2))
    ciphertext = prefix + free.to_bytes(16, "big")
    tag = _gcm_tag(k1, iv, aad, ciphertext)
    assert tag == _gcm_tag(k2, iv, aad, ciphertext)
    return ciphertext + tag


def test_gcm_helper_reproduces_aes_gcm_tags() -> None:
    """The GHASH helper must agree with AES-GCM before its salamander means anything."""
    key, iv = os.urandom(32), os.urandom(12)
    for aad, message in [(b"", b""), (b"a" * 17, b"m" * 33), (os.urandom(40), os.urandom(5))]:
        sealed = AESGCM(key).encrypt(iv, message, aad)
        assert _gcm_tag(key, iv, aad, sealed[:-16]) == sealed[-16:]


def test_invisible_salamander_is_caught_by_the_commitment(
    forge: EnvelopeForge, app_header: dict[str, Any]
) -> None:
    """A malicious sender makes one ciphertext that decrypts under two content keys to two
    different plaintexts, wraps k1 for recipients 1 and 3 and k2 for recipient 2, and signs.
    AES-GCM alone accepts both; the signed commitment lets only k1's recipients open it."""
    profile, sender, recipients = forge.profile, forge.sender, forge.recipients
    k1, k2, iv = os.urandom(32), os.urandom(32), os.urandom(12)
    header = {
        "enc": "A256GCM",
        "cty": profile.jwe.content_type,
        "kcm": b64u_encode(jwe.commitment(k1, profile.jwe.commitment_label)),
        profile.jwe.app_header: app_header,
    }
    protected_b64 = b64u_encode(strictjson.dumps(header))
    aad = protected_b64.encode("ascii")
    prefix = AESGCM(k1).encrypt(iv, b'{"order":"release container"}..', aad)[:32]
    sealed = salamander(k1, k2, iv, aad, prefix)
    said_to_1 = AESGCM(k1).decrypt(iv, sealed, aad)
    said_to_2 = AESGCM(k2).decrypt(iv, sealed, aad)  # valid under k2 as well...
    assert said_to_1 != said_to_2  # ...with another plaintext: the attack works on bare GCM

    keys = [k1, k2, k1]
    obj = {
        "protected": protected_b64,
        "recipients": [
            wrap_for(r.decryption.public, k) for r, k in zip(recipients, keys, strict=True)
        ],
        "iv": b64u_encode(iv),
        "ciphertext": b64u_encode(sealed[:-16]),
        "tag": b64u_encode(sealed[-16:]),
    }
    raw = jws.sign(strictjson.dumps(obj), sender.signing, typ=profile.jws_typ)

    assert open_as(forge, raw, recipients[0].decryption).plaintext == said_to_1
    assert open_as(forge, raw, recipients[2].decryption).plaintext == said_to_1
    with pytest.raises(CommitmentError, match="does not match the header's key commitment"):
        open_as(forge, raw, recipients[1].decryption)


# --- recipients -----------------------------------------------------------------------------------


def test_non_recipient_is_told_so(forge: EnvelopeForge, outsider: KeySet) -> None:
    with pytest.raises(NotARecipientError, match="not among the envelope's recipients"):
        open_as(forge, forge.raw, outsider.decryption)


def test_the_sender_is_not_a_recipient_of_its_own_envelope(forge: EnvelopeForge) -> None:
    with pytest.raises(NotARecipientError, match="not among the envelope's recipients"):
        open_as(forge, forge.raw, forge.sender.decryption)


def test_a_relabelled_entry_does_not_decrypt_for_the_new_kid(forge: EnvelopeForge) -> None:
    """Recipient 1's entry relabelled with the sender's kid: the sender finds an entry, but the
    key was wrapped for someone else."""
    raw = forge.with_recipient_header(0, {"kid": forge.sender.decryption.kid})
    with pytest.raises(DecryptionError, match="could not be unwrapped"):
        open_as(forge, raw, forge.sender.decryption)


@pytest.mark.parametrize(
    ("recipients", "error", "message"),
    [
        pytest.param(0, MalformedError, "a JWE needs at least one recipient", id="none"),
        pytest.param(513, OversizeError, "more than 512 recipients", id="too-many"),
        pytest.param(-1, MalformedError, "a recipient key is listed twice", id="listed-twice"),
    ],
)
def test_seal_refuses_bad_recipient_lists(
    profile: EnvelopeProfile,
    sender: KeySet,
    recipients: int,
    error: type[CryptoError],
    message: str,
) -> None:
    if recipients == -1:
        one = DecryptionKey.generate().public
        keys = [one, one]
    else:
        keys = [DecryptionKey.generate().public for _ in range(recipients)]
    with pytest.raises(error, match=re.escape(message)):
        seal(
            profile=profile, app_header={}, plaintext=b"{}", signer=sender.signing, recipients=keys
        )


def test_an_envelope_to_the_most_recipients_is_within_the_json_value_cap(
    profile: EnvelopeProfile, sender: KeySet
) -> None:
    """The cap on JSON values (``JweProfile.max_json_values``) refuses bombs, never a real JWE."""
    keys = [DecryptionKey.generate().public for _ in range(profile.jwe.max_recipients)]
    raw = seal(
        profile=profile, app_header={"to": ["x"] * 100}, plaintext=b"{}", signer=sender.signing,
        recipients=keys,
    )  # fmt: skip
    verified = verify(parse(raw, profile=profile), sender.signing.public)
    assert len(verified.recipient_kids) == profile.jwe.max_recipients


# --- content-key disclosure -----------------------------------------------------------------------


def test_disclosure_round_trip(forge: EnvelopeForge, plaintext: bytes) -> None:
    disclosures = []
    for recipient in forge.recipients:
        opened = open_as(forge, forge.raw, recipient.decryption)
        disclosures.append(disclose(opened).to_json())
    # every recipient discloses the same key for the same envelope
    assert len(set(disclosures)) == 1
    received = ContentKeyDisclosure.from_json(disclosures[0])
    audited = verify_disclosure(
        forge.raw, received, forge.sender.signing.public, profile=forge.profile
    )
    assert audited.plaintext == plaintext
    assert audited.envelope.signer == forge.sender.signing.public


def test_disclosure_with_a_wrong_key_is_refused(forge: EnvelopeForge) -> None:
    opened = open_as(forge, forge.raw)
    wrong = ContentKeyDisclosure(opened.envelope.sha256, os.urandom(32))
    with pytest.raises(CommitmentError, match="does not match the header's key commitment"):
        verify_disclosure(forge.raw, wrong, forge.sender.signing.public, profile=forge.profile)


def test_disclosure_with_a_wrong_digest_is_refused(forge: EnvelopeForge) -> None:
    opened = open_as(forge, forge.raw)
    wrong = ContentKeyDisclosure(bytes(32), opened.content_key)
    with pytest.raises(MalformedError, match="the disclosure names a different envelope"):
        verify_disclosure(forge.raw, wrong, forge.sender.signing.public, profile=forge.profile)


def test_disclosure_for_another_envelope_is_refused(forge: EnvelopeForge) -> None:
    """The right key, presented with another (validly signed) envelope's bytes."""
    opened = open_as(forge, forge.raw)
    other = forge.with_jwe_header({**forge.jwe_header(), "app": {"v": "other"}})
    with pytest.raises(MalformedError, match="the disclosure names a different envelope"):
        verify_disclosure(
            other, disclose(opened), forge.sender.signing.public, profile=forge.profile
        )


def test_disclosure_under_the_wrong_sender_is_refused(
    forge: EnvelopeForge, outsider: KeySet
) -> None:
    opened = open_as(forge, forge.raw)
    with pytest.raises(InvalidKeyError, match="kid mismatch"):
        verify_disclosure(
            forge.raw, disclose(opened), outsider.signing.public, profile=forge.profile
        )


_DIGEST = b64u_encode(bytes(32))
_CEK = b64u_encode(bytes(range(32)))


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        pytest.param(
            b'{"v":2,"envelope_sha256":"%s","cek":"%s"}' % (_DIGEST.encode(), _CEK.encode()),
            MalformedError,
            "disclosure version 2 is not 1",
            id="version-2",
        ),
        pytest.param(
            b'{"v":1,"envelope_sha256":"%s"}' % _DIGEST.encode(),
            MalformedError,
            "disclosure lacks required member(s): cek",
            id="missing-cek",
        ),
        pytest.param(
            b'{"v":1,"envelope_sha256":"%s","cek":"%s","kid":"x"}'
            % (_DIGEST.encode(), _CEK.encode()),
            MalformedError,
            "disclosure has member(s) the profile does not allow: kid",
            id="extra-member",
        ),
        pytest.param(
            b'{"v":1,"envelope_sha256":"%s","cek":"%s"}'
            % (_DIGEST.encode(), b64u_encode(bytes(16)).encode()),
            MalformedError,
            "disclosure digest and key must both be 32 bytes",
            id="short-key",
        ),
        pytest.param(
            b'{"v":1,"envelope_sha256":"%s","cek":"%s","cek":"%s"}'
            % (_DIGEST.encode(), _CEK.encode(), _CEK.encode()),
            DuplicateKeyError,
            "duplicate JSON member 'cek'",
            id="duplicate-cek",
        ),
        pytest.param(
            b'{"v":1,"envelope_sha256":"%s","cek":"%s"}'
            % (_DIGEST.encode(), set_unused_bit(_CEK).encode()),
            EncodingError,
            "cek is not canonical base64url",
            id="non-canonical-cek",
        ),
        pytest.param(
            b'{"v":1,"envelope_sha256":"%s","cek":"%s"} ' % (_DIGEST.encode(), _CEK.encode()),
            TrailingDataError,
            "disclosure has 1 characters after the JSON value",
            id="trailing-space",
        ),
        pytest.param(
            b'{"v":1,"pad":"%s"}' % (b"x" * 1100),
            OversizeError,
            "disclosure is larger than 1024 bytes",
            id="oversize",
        ),
    ],
)
def test_disclosure_json_is_strict(data: bytes, error: type[CryptoError], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)) as caught:
        ContentKeyDisclosure.from_json(data)
    assert type(caught.value) is error
