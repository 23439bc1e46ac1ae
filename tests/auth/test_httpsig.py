"""RFC 9421 request signatures, profile ``pgs``: round trips, the RFC 9421 B.2.6 known answer,
independent checks, and every way a signature is refused, each with its stable code.

Not circular: ``hub.auth.httpsig`` is built on ``http-message-signatures``, so our signatures are
also checked by rebuilding the signature base by hand (RFC 9421 §2.5) and verifying it with
``cryptography`` alone; and requests signed by hand are fed to ``verify_request``. The invalid
cases are signed by hand too, with a valid signature, so each one fails on the rule it names and
not on the signature.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, MappingKeyResolver
from http_message_signatures.algorithms import ED25519
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.b64 import b64u_decode
from pgs_hub.crypto.keys import SigningKey, VerifyKey
from pgs_hub.hub.auth.digest import check_content_digest
from pgs_hub.hub.auth.httpsig import (
    MAX_COMPONENTS,
    MAX_FIELD_LENGTH,
    SIGNATURE_LABEL,
    WINDOW_SECONDS,
    VerifiedSignature,
    claimed_keyid,
    sign_request,
    verify_request,
)
from pgs_hub.hub.errors import AuthenticationError, InvalidRequest

RFC = Path(__file__).resolve().parent.parent / "vectors" / "rfc"
B26: dict[str, Any] = json.loads((RFC / "rfc9421_b26.json").read_text(encoding="utf-8"))

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
NONCE = "bm9uY2Utb2YtdGhlLXRlc3Q"
KEY = SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
OTHER = SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)))
KEYS: dict[str, VerifyKey] = {KEY.kid: KEY.public, OTHER.kid: OTHER.public}
URL = "https://hub.example.org:8443/v1/envelopes/01HZX3T6Q8K2M4N5P7R9S0V1W2/receipts?mode=full"
BODY = b'{"status":"read","at":1767225600}'


def resolve(keyid: str) -> VerifyKey:
    if keyid not in KEYS:
        raise AuthenticationError("unknown key", code="auth.unknown_key")
    return KEYS[keyid]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def digest_field(body: bytes) -> str:
    """RFC 9530 sha-256 Content-Digest, computed here without the code under test."""
    return f"sha-256=:{b64(hashlib.sha256(body).digest())}:"


def verify(
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    now: int = NOW,
    window: int = WINDOW_SECONDS,
    resolver: Callable[[str], VerifyKey] = resolve,
) -> VerifiedSignature:
    return verify_request(
        method=method,
        url=url,
        headers=headers,
        body=body,
        resolve_key=resolver,
        now=now,
        window=window,
    )


def refused(code: str, headers: Mapping[str, str], **kwargs: Any) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        verify(headers, **kwargs)
    assert caught.value.code == code, str(caught.value)
    return caught.value


# --- signing by hand (RFC 9421 §2.3, §2.5), independent of the package ------------------------


def _sf(value: int | str) -> str:
    return str(value) if isinstance(value, int) else f'"{value}"'


DEFAULT_PARAMS: tuple[tuple[str, int | str], ...] = (
    ("created", NOW),
    ("keyid", KEY.kid),
    ("alg", "ed25519"),
    ("nonce", NONCE),
)


def hand_base(
    *, method: str, url: str, components: list[str], params: str, fields: Mapping[str, str]
) -> bytes:
    """The signature base for our components, written out as RFC 9421 §2.5 says."""
    parts = urlsplit(url)
    derived = {
        "@method": method,
        "@target-uri": url,
        "@scheme": parts.scheme,
        "@authority": parts.netloc,
        "@path": parts.path or "/",
        "@query": "?" + parts.query,
        "@request-target": (parts.path or "/") + ("?" + parts.query if parts.query else ""),
    }
    lines = []
    for name in components:
        value = derived[name] if name.startswith("@") else fields[name.lower()]
        lines.append(f'"{name}": {value}')
    inner = "(" + " ".join(f'"{name}"' for name in components) + ")" + params
    lines.append(f'"@signature-params": {inner}')
    return "\n".join(lines).encode("ascii")


def hand_sign(
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    components: list[str] | None = None,
    params: tuple[tuple[str, int | str], ...] = DEFAULT_PARAMS,
    key: SigningKey = KEY,
    label: str = SIGNATURE_LABEL,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Headers for a request signed by hand; components default to the profile's."""
    headers: dict[str, str] = dict(extra or {})
    if body is not None:
        headers["Content-Digest"] = digest_field(body)
    if components is None:
        components = ["@method", "@target-uri"] + (["content-digest"] if body is not None else [])
    param_text = "".join(f";{name}={_sf(value)}" for name, value in params)
    fields = {name.lower(): value for name, value in headers.items()}
    base = hand_base(
        method=method, url=url, components=components, params=param_text, fields=fields
    )
    inner = "(" + " ".join(f'"{name}"' for name in components) + ")" + param_text
    headers["Signature-Input"] = f"{label}={inner}"
    headers["Signature"] = f"{label}=:{b64(key.sign(base))}:"
    return headers


def without(params: tuple[tuple[str, int | str], ...], name: str) -> tuple[Any, ...]:
    return tuple(item for item in params if item[0] != name)


def replaced(params: tuple[tuple[str, int | str], ...], name: str, value: int | str) -> Any:
    return tuple((n, value if n == name else v) for n, v in params)


def signed(
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    key: SigningKey = KEY,
    now: int = NOW,
    nonce: str | None = NONCE,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers of a request signed by the code under test."""
    base_headers = dict(headers or {})
    return {
        **base_headers,
        **sign_request(
            method=method, url=url, headers=base_headers, body=body, key=key, now=now, nonce=nonce
        ),
    }


# --- round trips ------------------------------------------------------------------------------


def test_round_trip_get_without_body() -> None:
    url = "https://hub.example.org/v1/inbox?after=41&limit=50"
    headers = signed(method="GET", url=url, body=None)
    assert set(headers) == {"Signature-Input", "Signature"}
    expected = VerifiedSignature(keyid=KEY.kid, created=NOW, nonce=NONCE)
    assert verify(headers, method="GET", url=url, body=None) == expected
    assert verify(headers, method="GET", url=url, body=b"") == expected  # aiohttp reads b""


def test_round_trip_post_with_body() -> None:
    headers = signed(headers={"Content-Type": "application/json"})
    assert headers["Content-Digest"] == digest_field(BODY)
    result = verify(headers)
    assert result == VerifiedSignature(keyid=KEY.kid, created=NOW, nonce=NONCE)


def test_round_trip_post_with_empty_body_covers_its_digest() -> None:
    headers = signed(body=b"")
    assert headers["Content-Digest"] == digest_field(b"")
    assert '"content-digest"' in headers["Signature-Input"]
    assert verify(headers, body=b"").keyid == KEY.kid
    refused("auth.digest_mismatch", headers, body=b"x")


def test_a_body_hashed_beforehand_is_signed_as_the_body_itself_would_be() -> None:
    """``content_digest`` signs a body hashed ahead of time (an upload's next part, hashed while
    the previous one is on the wire): the same fields as signing the body, verified against it,
    and a body other than the one hashed is refused."""
    headers = signed(headers={"Content-Type": "application/json"})
    ahead = sign_request(
        method="POST", url=URL, headers={"Content-Type": "application/json"}, body=None, key=KEY,
        now=NOW, nonce=NONCE, content_digest=digest_field(BODY),
    )  # fmt: skip
    assert {"Content-Type": "application/json", **ahead} == headers
    assert verify(ahead) == VerifiedSignature(keyid=KEY.kid, created=NOW, nonce=NONCE)
    refused("auth.digest_mismatch", ahead, body=BODY + b" ")
    with pytest.raises(ValueError, match="not both"):
        sign_request(
            method="POST", url=URL, headers={}, body=BODY, key=KEY, now=NOW,
            content_digest=digest_field(BODY),
        )  # fmt: skip


def test_verify_accepts_a_clock_within_the_window() -> None:
    headers = signed()
    assert verify(headers, now=NOW + WINDOW_SECONDS).created == NOW
    assert verify(headers, now=NOW - WINDOW_SECONDS).created == NOW


def test_header_names_are_case_insensitive() -> None:
    headers = {name.lower(): value for name, value in signed().items()}
    assert verify(headers).keyid == KEY.kid
    headers = {name.upper(): value for name, value in signed().items()}
    assert verify(headers).keyid == KEY.kid


def test_default_nonce_is_fresh_128_bits() -> None:
    first = claimed_nonce(signed(nonce=None))
    second = claimed_nonce(signed(nonce=None))
    assert first != second
    assert len(b64u_decode(first)) == 16
    assert verify(signed(nonce=None)).nonce != NONCE


def claimed_nonce(headers: Mapping[str, str]) -> str:
    return verify(headers).nonce


def test_signature_input_has_the_profile_parameters() -> None:
    headers = signed()
    assert headers["Signature-Input"] == (
        'pgs=("@method" "@target-uri" "content-digest")'
        f';created={NOW};keyid="{KEY.kid}";alg="ed25519";nonce="{NONCE}"'
    )


def test_other_request_headers_are_not_signed_but_allowed() -> None:
    headers = signed(headers={"Content-Type": "application/json", "Accept": "*/*"})
    headers["Accept"] = "text/plain"
    assert verify(headers).keyid == KEY.kid


# --- independent checks: by hand, and with the package's own verifier ------------------------


def test_our_signature_verifies_over_a_hand_built_signature_base() -> None:
    headers = signed()
    params = headers["Signature-Input"].removeprefix("pgs=")
    params = params[params.index(")") + 1 :]
    base = hand_base(
        method="POST",
        url=URL,
        components=["@method", "@target-uri", "content-digest"],
        params=params,
        fields={"content-digest": digest_field(BODY)},
    )
    assert headers["Signature"].startswith("pgs=:")
    assert headers["Signature"].endswith(":")
    signature = base64.b64decode(headers["Signature"][len("pgs=:") : -1], validate=True)
    KEY.public.key.verify(signature, base)  # raises if not valid
    with pytest.raises(CryptoInvalidSignature):
        KEY.public.key.verify(signature, base.replace(b"POST", b"PUT "))


def test_get_signature_base_by_hand() -> None:
    url = "https://hub.example.org/v1/inbox"
    headers = signed(method="GET", url=url, body=None)
    expected_base = (
        f'"@method": GET\n"@target-uri": {url}\n'
        f'"@signature-params": ("@method" "@target-uri");created={NOW};keyid="{KEY.kid}"'
        f';alg="ed25519";nonce="{NONCE}"'
    ).encode("ascii")
    signature = base64.b64decode(headers["Signature"][len("pgs=:") : -1], validate=True)
    KEY.public.key.verify(signature, expected_base)


def test_hand_signed_request_verifies() -> None:
    assert verify(hand_sign()) == VerifiedSignature(keyid=KEY.kid, created=NOW, nonce=NONCE)


def test_hand_signed_request_with_other_parameter_order_and_expires_verifies() -> None:
    params: tuple[tuple[str, int | str], ...] = (
        ("nonce", NONCE),
        ("alg", "ed25519"),
        ("expires", NOW + 60),
        ("keyid", KEY.kid),
        ("created", NOW),
    )
    assert verify(hand_sign(params=params)).nonce == NONCE


def test_hand_signed_request_with_extra_covered_field_verifies() -> None:
    headers = hand_sign(
        components=["content-type", "@method", "@target-uri", "content-digest"],
        extra={"Content-Type": "application/json"},
    )
    assert verify(headers).keyid == KEY.kid
    headers["Content-Type"] = "text/plain"
    refused("auth.bad_signature", headers)


@dataclass
class PackageRequest:
    """The request shape ``http-message-signatures`` reads: method, url, headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def test_package_verifier_accepts_our_signature() -> None:
    now = int(time.time())  # the package's verifier reads the wall clock
    headers = signed(now=now)
    verifier = HTTPMessageVerifier(
        signature_algorithm=ED25519,
        key_resolver=MappingKeyResolver(public_keys={KEY.kid: KEY.public.key}, private_keys={}),
    )
    (result,) = verifier.verify(
        PackageRequest("POST", URL, headers),
        expect_tag=None,
        require_components=("@method", "@target-uri", "content-digest"),
        body=BODY,
    )
    assert result.label == SIGNATURE_LABEL
    assert result.parameters == {
        "created": now,
        "keyid": KEY.kid,
        "alg": "ed25519",
        "nonce": NONCE,
    }
    assert result.body == BODY


# --- RFC 9421 Appendix B.2.6 known answer -----------------------------------------------------


def b26_public() -> ed25519.Ed25519PublicKey:
    key = load_pem_public_key(B26["key"]["public_pem"].encode("ascii"))
    assert isinstance(key, ed25519.Ed25519PublicKey)
    return key


def b26_private() -> ed25519.Ed25519PrivateKey:
    key = load_pem_private_key(B26["key"]["private_pem"].encode("ascii"), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


def b26_base() -> bytes:
    return "\n".join(B26["signature_base_lines"]).encode("ascii")


def b26_signature() -> bytes:
    header: str = B26["signature_header"]
    prefix = B26["label"] + "=:"
    assert header.startswith(prefix)
    assert header.endswith(":")
    return base64.b64decode(header[len(prefix) : -1], validate=True)


def b26_request(*, signed: bool) -> PackageRequest:
    headers = dict(B26["request"]["headers"])
    if signed:
        headers["Signature-Input"] = B26["signature_input_header"]
        headers["Signature"] = B26["signature_header"]
    return PackageRequest(B26["request"]["method"], B26["request"]["target_uri"], headers)


def test_b26_vector_is_consistent() -> None:
    assert B26["key"]["keyid"] == "test-key-ed25519"
    jwk = B26["key"]["jwk"]
    public = b26_public().public_bytes_raw()
    assert b26_private().public_key().public_bytes_raw() == public
    assert b64u_decode(jwk["x"]) == public
    assert b64u_decode(jwk["d"]) == b26_private().private_bytes_raw()
    assert B26["signature_input_header"] == f"{B26['label']}={B26['signature_params']}"
    assert B26["signature_base_lines"][-1] == f'"@signature-params": {B26["signature_params"]}'
    assert len(b26_signature()) == 64


def test_b26_raw_ed25519_verification() -> None:
    b26_public().verify(b26_signature(), b26_base())
    with pytest.raises(CryptoInvalidSignature):
        b26_public().verify(b26_signature(), b26_base().replace(b"POST", b"PUT "))


def test_b26_signature_is_reproduced_by_our_signing_key() -> None:
    """Ed25519 is deterministic: our SigningKey over the RFC's base gives the RFC's signature."""
    key = SigningKey.from_private(b26_private())
    assert key.sign(b26_base()) == b26_signature()


def test_b26_package_builds_the_rfc_signature_base() -> None:
    signer = HTTPMessageSigner(signature_algorithm=ED25519)
    prepared = signer.prepare(
        b26_request(signed=False),
        key_id=B26["key"]["keyid"],
        created=datetime.fromtimestamp(B26["created"], tz=UTC),
        include_alg=False,
        label=B26["label"],
        covered_component_ids=B26["covered_components"],
        use_existing_digest=True,  # the test-request already carries a Content-Digest
    )
    assert prepared.signature_base == b26_base()
    assert prepared.signature_params == B26["signature_params"]


def test_b26_package_verifier_accepts_the_rfc_signature() -> None:
    verifier = HTTPMessageVerifier(
        signature_algorithm=ED25519,
        key_resolver=MappingKeyResolver(
            public_keys={B26["key"]["keyid"]: b26_public()}, private_keys={}
        ),
    )
    (result,) = verifier.verify(b26_request(signed=True), max_age=None)
    assert result.parameters == {"created": B26["created"], "keyid": B26["key"]["keyid"]}


def test_b26_message_is_outside_our_profile() -> None:
    """The RFC example has another label, no nonce, no alg and no @target-uri, so
    ``verify_request`` refuses it; the B.2.6 tests above check the construction instead."""
    request = b26_request(signed=True)
    keys = {B26["key"]["keyid"]: VerifyKey.from_public(b26_public())}

    def check(headers: Mapping[str, str], code: str) -> None:
        with pytest.raises(AuthenticationError) as caught:
            verify_request(
                method=request.method,
                url=request.url,
                headers=headers,
                body=B26["request"]["body"].encode("utf-8"),
                resolve_key=keys.__getitem__,
                now=B26["created"],
            )
        assert caught.value.code == code

    check(request.headers, "auth.missing_signature")
    relabelled = dict(request.headers)
    label = B26["label"]
    relabelled["Signature-Input"] = relabelled["Signature-Input"].replace(label, "pgs", 1)
    relabelled["Signature"] = relabelled["Signature"].replace(label, "pgs", 1)
    check(relabelled, "auth.malformed_signature")


# --- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        pytest.param("PUT", URL, id="method"),
        pytest.param("POST", URL.replace("hub.example.org", "hub.example.net"), id="host"),
        pytest.param("POST", URL.replace(":8443", ":8444"), id="port"),
        pytest.param("POST", URL.replace(":8443", ""), id="port-dropped"),
        pytest.param("POST", URL.replace("https://", "http://"), id="scheme"),
        pytest.param("POST", URL.replace("/receipts", "/status"), id="path"),
        pytest.param("POST", URL.replace("/v1/", "/v1//"), id="path-double-slash"),
        pytest.param("POST", URL.replace("/receipts", "/%72eceipts"), id="path-percent-encoded"),
        pytest.param("POST", URL.replace("mode=full", "mode=none"), id="query-value"),
        pytest.param("POST", URL + "&extra=1", id="query-added"),
        pytest.param("POST", URL.split("?", maxsplit=1)[0], id="query-removed"),
        pytest.param("POST", URL.replace("?mode", "?Mode"), id="query-case"),
    ],
)
def test_tampered_request_line_is_bad_signature(method: str, url: str) -> None:
    refused("auth.bad_signature", signed(), method=method, url=url)


def test_lower_case_method_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest) as caught:
        verify(signed(), method="post")
    assert caught.value.code == "request.invalid_target"


def test_tampered_body_is_digest_mismatch() -> None:
    refused("auth.digest_mismatch", signed(), body=BODY.replace(b"read", b"lost"))


def test_tampered_body_with_recomputed_digest_is_bad_signature() -> None:
    body = BODY.replace(b"read", b"lost")
    headers = signed()
    headers["Content-Digest"] = digest_field(body)
    refused("auth.bad_signature", headers, body=body)


def test_tampered_digest_header_alone_is_bad_signature() -> None:
    headers = signed()
    headers["Content-Digest"] = f"sha-512=:{b64(hashlib.sha512(BODY).digest())}:"
    refused("auth.bad_signature", headers)


def test_flipped_signature_bit_is_bad_signature() -> None:
    headers = signed()
    signature = bytearray(base64.b64decode(headers["Signature"][len("pgs=:") : -1]))
    signature[10] ^= 0x01
    headers["Signature"] = f"pgs=:{b64(bytes(signature))}:"
    refused("auth.bad_signature", headers)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("created", NOW + 1, id="created"),
        pytest.param("nonce", "bm9uY2Utb2YtdGhlLXRlc3R", id="nonce"),
        pytest.param("keyid", OTHER.kid, id="keyid"),
    ],
)
def test_tampered_parameter_is_bad_signature(name: str, value: int | str) -> None:
    headers = signed()
    old = _sf(dict(DEFAULT_PARAMS)[name])
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        f"{name}={old}", f"{name}={_sf(value)}"
    )
    refused("auth.bad_signature", headers)


def test_signature_by_another_key_under_claimed_keyid_is_bad_signature() -> None:
    headers = hand_sign(key=OTHER)  # keyid says KEY, OTHER signed
    refused("auth.bad_signature", headers)


def test_signature_from_other_request_is_bad_signature() -> None:
    other = signed(url=URL.replace("receipts", "status"))
    headers = signed()
    headers["Signature"] = other["Signature"]
    refused("auth.bad_signature", headers)


# --- missing, malformed, labels ---------------------------------------------------------------


@pytest.mark.parametrize(
    "dropped", [("Signature",), ("Signature-Input",), ("Signature", "Signature-Input")]
)
def test_missing_signature_fields(dropped: tuple[str, ...]) -> None:
    headers = {k: v for k, v in signed().items() if k not in dropped}
    refused("auth.missing_signature", headers)


def test_unsigned_request_is_missing_signature() -> None:
    refused("auth.missing_signature", {"Content-Type": "application/json"}, body=None)


def relabel(headers: dict[str, str], *, input_label: str, signature_label: str) -> dict[str, str]:
    return {
        **headers,
        "Signature-Input": headers["Signature-Input"].replace("pgs=", f"{input_label}=", 1),
        "Signature": headers["Signature"].replace("pgs=", f"{signature_label}=", 1),
    }


def test_only_another_label_is_missing_signature() -> None:
    refused("auth.missing_signature", hand_sign(label="sig1"))


def test_labels_differ_between_fields_is_missing_signature() -> None:
    headers = relabel(signed(), input_label="pgs", signature_label="sig1")
    refused("auth.missing_signature", headers)


def test_duplicate_label_is_malformed() -> None:
    headers = signed()
    headers["Signature-Input"] = f"{headers['Signature-Input']}, {headers['Signature-Input']}"
    refused("auth.malformed_signature", headers)
    headers = signed()
    headers["Signature"] = f"{headers['Signature']}, {headers['Signature']}"
    refused("auth.malformed_signature", headers)


def test_extra_label_is_malformed() -> None:
    ours = signed()
    theirs = hand_sign(label="proxy", key=OTHER)
    headers = {
        **ours,
        "Signature-Input": f"{ours['Signature-Input']}, {theirs['Signature-Input']}",
        "Signature": f"{ours['Signature']}, {theirs['Signature']}",
    }
    refused("auth.malformed_signature", headers)


class MultiHeaders(Mapping[str, str]):
    """A header mapping that repeats field lines, like aiohttp's CIMultiDictProxy."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self._lines = lines

    def __getitem__(self, key: str) -> str:
        for name, value in self._lines:
            if name.lower() == key.lower():
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __len__(self) -> int:
        return len(dict.fromkeys(name for name, _ in self._lines))

    def items(self) -> Any:
        return list(self._lines)


def test_repeated_field_lines_are_combined() -> None:
    headers = signed()
    lines = list(headers.items())
    assert verify(MultiHeaders(lines)).keyid == KEY.kid
    repeated = [*lines, ("Signature-Input", headers["Signature-Input"])]
    refused("auth.malformed_signature", MultiHeaders(repeated))


GARBAGE_INPUT = [
    ("not-a-dictionary", "hello world"),
    ("label-only", "pgs"),
    ("unterminated-list", 'pgs=("@method" "@target-uri"'),
    ("unterminated-string", 'pgs=("@method);created=1'),
    ("item-not-list", 'pgs="@method"'),
    ("byte-sequence", "pgs=:AAAA:"),
    ("component-token", "pgs=(date);created=1"),
    ("component-integer", "pgs=(1);created=1"),
    ("upper-case-label", 'PGS=("@method")'),
    ("non-ascii", 'pgs=("@méthod")'),
    ("lone-surrogate", 'pgs=("\ud800")'),
    ("control-character", 'pgs=("@method"\x00)'),
    ("trailing-comma", 'pgs=("@method"),'),
    ("too-long", 'pgs=("@method");nonce="' + "a" * MAX_FIELD_LENGTH + '"'),
]


@pytest.mark.parametrize("value", [pytest.param(value, id=name) for name, value in GARBAGE_INPUT])
def test_garbage_signature_input_is_malformed(value: str) -> None:
    headers = signed()
    headers["Signature-Input"] = value
    refused("auth.malformed_signature", headers)


def test_empty_signature_input_is_missing_signature() -> None:
    """An empty field is an empty Dictionary: no signature at all."""
    headers = signed()
    headers["Signature-Input"] = ""
    refused("auth.missing_signature", headers)


GARBAGE_SIGNATURE = [
    ("not-base64", "pgs=:!!!!:"),
    ("string", 'pgs="c2lnbmF0dXJl"'),
    ("token", "pgs=abc"),
    ("inner-list", "pgs=(:AAAA:)"),
    ("too-short", f"pgs=:{b64(bytes(63))}:"),
    ("too-long", f"pgs=:{b64(bytes(65))}:"),
    ("with-parameter", f"pgs=:{b64(bytes(64))}:;alg=1"),
    ("unterminated", "pgs=:AAAA"),
]


@pytest.mark.parametrize(
    "value", [pytest.param(value, id=name) for name, value in GARBAGE_SIGNATURE]
)
def test_garbage_signature_is_malformed(value: str) -> None:
    headers = signed()
    headers["Signature"] = value
    refused("auth.malformed_signature", headers)


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["created", "nonce", "keyid", "alg"])
def test_missing_required_parameter_is_malformed(name: str) -> None:
    error = refused("auth.malformed_signature", hand_sign(params=without(DEFAULT_PARAMS, name)))
    assert repr(name) in str(error)


@pytest.mark.parametrize(
    ("params", "why"),
    [
        pytest.param((*DEFAULT_PARAMS, ("tag", "pgs")), "tag", id="tag"),
        pytest.param((*DEFAULT_PARAMS, ("extra", 1)), "unknown", id="unknown"),
        pytest.param(replaced(DEFAULT_PARAMS, "created", str(NOW)), "type", id="created-string"),
        pytest.param((*DEFAULT_PARAMS, ("expires", "soon")), "type", id="expires-string"),
        pytest.param(replaced(DEFAULT_PARAMS, "keyid", 7), "type", id="keyid-integer"),
        pytest.param(replaced(DEFAULT_PARAMS, "keyid", ""), "empty", id="keyid-empty"),
        pytest.param(replaced(DEFAULT_PARAMS, "keyid", "a b"), "space", id="keyid-space"),
        pytest.param(replaced(DEFAULT_PARAMS, "keyid", "k" * 129), "long", id="keyid-too-long"),
        pytest.param(replaced(DEFAULT_PARAMS, "nonce", 12345), "type", id="nonce-integer"),
        pytest.param(replaced(DEFAULT_PARAMS, "nonce", "short"), "short", id="nonce-short"),
        pytest.param(
            replaced(DEFAULT_PARAMS, "nonce", "not+base64url/chars"), "chars", id="nonce-chars"
        ),
        pytest.param(replaced(DEFAULT_PARAMS, "nonce", "n" * 129), "long", id="nonce-too-long"),
        pytest.param(replaced(DEFAULT_PARAMS, "alg", 25519), "type", id="alg-integer"),
    ],
)
def test_bad_parameter_is_malformed(params: tuple[tuple[str, int | str], ...], why: str) -> None:
    refused("auth.malformed_signature", hand_sign(params=params))


def test_parameter_as_token_or_boolean_is_malformed() -> None:
    headers = hand_sign()
    headers["Signature-Input"] = headers["Signature-Input"].replace('alg="ed25519"', "alg=ed25519")
    refused("auth.malformed_signature", headers)
    headers = hand_sign()
    headers["Signature-Input"] = headers["Signature-Input"].replace(f"created={NOW}", "created")
    refused("auth.malformed_signature", headers)


@pytest.mark.parametrize("alg", ["rsa-pss-sha512", "ecdsa-p256-sha256", "hmac-sha256", "ED25519"])
def test_wrong_algorithm_is_unsupported(alg: str) -> None:
    refused("auth.unsupported_algorithm", hand_sign(params=replaced(DEFAULT_PARAMS, "alg", alg)))


# --- time -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "created",
    [
        pytest.param(NOW - WINDOW_SECONDS - 1, id="too-old"),
        pytest.param(NOW + WINDOW_SECONDS + 1, id="in-the-future"),
        pytest.param(0, id="epoch"),
        pytest.param(-1, id="negative"),
        pytest.param(999_999_999_999_999, id="largest-sf-integer"),
    ],
)
def test_created_outside_window_is_expired(created: int) -> None:
    error = refused("auth.expired", hand_sign(params=replaced(DEFAULT_PARAMS, "created", created)))
    assert f"±{WINDOW_SECONDS} seconds" in str(error)


def test_created_at_window_edges_is_accepted() -> None:
    for created in (NOW - WINDOW_SECONDS, NOW + WINDOW_SECONDS):
        headers = hand_sign(params=replaced(DEFAULT_PARAMS, "created", created))
        assert verify(headers).created == created


def test_window_is_the_callers() -> None:
    headers = hand_sign(params=replaced(DEFAULT_PARAMS, "created", NOW - 20))
    error = refused("auth.expired", headers, window=10)
    assert "±10 seconds" in str(error)
    assert verify(headers, window=20).created == NOW - 20
    with pytest.raises(ValueError, match="window"):
        verify(headers, window=-1)


def test_expires_in_the_past_is_expired() -> None:
    refused("auth.expired", hand_sign(params=(*DEFAULT_PARAMS, ("expires", NOW - 1))))


def test_expires_now_or_later_is_accepted() -> None:
    for expires in (NOW, NOW + 60):
        assert verify(hand_sign(params=(*DEFAULT_PARAMS, ("expires", expires)))).created == NOW


def test_signed_long_ago_is_refused_before_the_key_is_looked_up() -> None:
    looked_up: list[str] = []

    def spy(keyid: str) -> VerifyKey:
        looked_up.append(keyid)
        return resolve(keyid)

    refused("auth.expired", signed(now=NOW - 3600), resolver=spy)
    assert looked_up == []


# --- covered components -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("components", "body"),
    [
        pytest.param(["@target-uri", "content-digest"], BODY, id="no-method"),
        pytest.param(["@method", "content-digest"], BODY, id="no-target-uri"),
        pytest.param(["@method", "@target-uri"], BODY, id="body-without-content-digest"),
        pytest.param([], None, id="nothing-covered"),
        pytest.param(["@method", "@path", "@authority", "@scheme", "@query"], None, id="parts"),
        pytest.param(["@method", "@request-target"], None, id="request-target-instead"),
    ],
)
def test_missing_required_component(components: list[str], body: bytes | None) -> None:
    headers = hand_sign(components=components, body=body)
    refused("auth.missing_component", headers, body=body)


def test_body_attached_to_a_signed_get_is_missing_component() -> None:
    headers = signed(body=None)
    refused("auth.missing_component", headers, body=BODY)


def test_uncovered_content_digest_header_is_missing_component() -> None:
    headers = hand_sign(components=["@method", "@target-uri"], body=None)
    headers["Content-Digest"] = digest_field(b"")
    refused("auth.missing_component", headers, body=b"")


def test_covered_content_digest_removed_is_missing_component() -> None:
    headers = signed()
    del headers["Content-Digest"]
    refused("auth.missing_component", headers)


def test_covered_field_absent_is_missing_component() -> None:
    headers = hand_sign(
        components=["@method", "@target-uri", "content-digest", "content-type"],
        extra={"Content-Type": "application/json"},
    )
    del headers["Content-Type"]
    refused("auth.missing_component", headers)


def test_required_component_with_parameters_does_not_count() -> None:
    headers = hand_sign(components=["@method", "@target-uri", "content-digest"])
    headers["Signature-Input"] = headers["Signature-Input"].replace('"@method"', '"@method";req')
    refused("auth.missing_component", headers)


def test_duplicate_component_is_malformed() -> None:
    headers = hand_sign(components=["@method", "@target-uri", "@method", "content-digest"])
    refused("auth.malformed_signature", headers)


def test_too_many_components_is_malformed() -> None:
    names = [f"x-field-{n}" for n in range(MAX_COMPONENTS)]
    headers = hand_sign(
        components=["@method", "@target-uri", "content-digest", *names],
        extra=dict.fromkeys(names, "1"),
    )
    refused("auth.malformed_signature", headers)


# --- keys -------------------------------------------------------------------------------------


def test_unknown_key_error_from_resolver_propagates() -> None:
    headers = hand_sign(key=OTHER, params=replaced(DEFAULT_PARAMS, "keyid", "z" * 43))
    refused("auth.unknown_key", headers)


def test_revoked_key_error_from_resolver_propagates_unchanged() -> None:
    revoked = AuthenticationError("this key was revoked", code="auth.key_revoked")

    def resolver(keyid: str) -> VerifyKey:
        raise revoked

    with pytest.raises(AuthenticationError) as caught:
        verify(signed(), resolver=resolver)
    assert caught.value is revoked


def test_lookup_error_from_resolver_is_unknown_key() -> None:
    refused("auth.unknown_key", signed(key=OTHER), resolver={KEY.kid: KEY.public}.__getitem__)


def test_resolver_receives_the_claimed_keyid() -> None:
    seen: list[str] = []

    def resolver(keyid: str) -> VerifyKey:
        seen.append(keyid)
        return KEYS[keyid]

    verify(signed(key=OTHER), resolver=resolver)
    assert seen == [OTHER.kid]


def test_claimed_keyid() -> None:
    assert claimed_keyid(signed(key=OTHER)) == OTHER.kid
    with pytest.raises(AuthenticationError) as caught:
        claimed_keyid({})
    assert caught.value.code == "auth.missing_signature"
    with pytest.raises(AuthenticationError) as caught:
        claimed_keyid(hand_sign(params=without(DEFAULT_PARAMS, "keyid")))
    assert caught.value.code == "auth.malformed_signature"


# --- target URI and signing errors ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/v1/inbox", id="relative"),
        pytest.param("https://hub.example.org/v1/in box", id="space"),
        pytest.param("https://hub.example.org/v1/ïnbox", id="non-ascii"),
        pytest.param("https:///v1/inbox", id="no-host"),
        pytest.param("https://hub.example.org/v1/%zz", id="bad-escape"),
    ],
)
def test_unusable_url_is_invalid_request(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        verify(signed(), url=url)
    assert caught.value.code == "request.invalid_target"
    with pytest.raises(InvalidRequest):
        sign_request(method="GET", url=url, headers={}, body=None, key=KEY, now=NOW)


def test_sign_refuses_lower_case_method() -> None:
    with pytest.raises(InvalidRequest):
        sign_request(method="get", url=URL, headers={}, body=None, key=KEY, now=NOW)


@pytest.mark.parametrize("name", ["Signature", "signature-input", "Content-Digest"])
def test_sign_refuses_headers_it_sets(name: str) -> None:
    with pytest.raises(ValueError, match="sets these fields itself"):
        sign_request(method="POST", url=URL, headers={name: "x"}, body=BODY, key=KEY, now=NOW)


@pytest.mark.parametrize("nonce", ["", "short", "has space in it!!", "n" * 129])
def test_sign_refuses_a_nonce_verify_would_refuse(nonce: str) -> None:
    with pytest.raises(ValueError, match="nonce"):
        sign_request(method="GET", url=URL, headers={}, body=None, key=KEY, now=NOW, nonce=nonce)


def test_url_fragment_and_userinfo_are_not_signed() -> None:
    """RFC 9421 @target-uri has neither; a client that sends one is verified without it."""
    headers = signed(url=URL + "#part")
    assert verify(headers, url=URL).keyid == KEY.kid


def test_empty_path_is_slash() -> None:
    headers = signed(method="GET", url="https://hub.example.org", body=None)
    assert verify(headers, method="GET", url="https://hub.example.org/", body=None).keyid


# --- properties -------------------------------------------------------------------------------

SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.lists(SEGMENT, max_size=4),
    query=st.dictionaries(SEGMENT, SEGMENT, max_size=3),
    body=st.one_of(st.none(), st.binary(max_size=512)),
)
def test_round_trip_property(
    method: str, path: list[str], query: dict[str, str], body: bytes | None
) -> None:
    url = "https://hub.example.org/" + "/".join(path)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    headers = signed(method=method, url=url, body=body, nonce=None)
    assert verify(headers, method=method, url=url, body=body).keyid == KEY.kid


def _only_our_errors(headers: Mapping[str, str], **kwargs: Any) -> None:
    with contextlib.suppress(AuthenticationError, InvalidRequest):
        verify(headers, **kwargs)


FIELD_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet='pgs=()";:, @-_abcdefz0123456789+/\\\t', max_size=200),
)


@settings(max_examples=400, deadline=None)
@given(signature_input=FIELD_TEXT, signature=FIELD_TEXT, digest=st.none() | FIELD_TEXT)
def test_arbitrary_header_strings_raise_only_our_errors(
    signature_input: str, signature: str, digest: str | None
) -> None:
    headers = {"Signature-Input": signature_input, "Signature": signature}
    if digest is not None:
        headers["Content-Digest"] = digest
    _only_our_errors(headers)


@settings(max_examples=400, deadline=None)
@given(
    which=st.sampled_from(["Signature-Input", "Signature", "Content-Digest"]),
    position=st.integers(min_value=0, max_value=400),
    insert=st.text(max_size=4),
    drop=st.integers(min_value=0, max_value=3),
)
def test_mutated_valid_headers_raise_only_our_errors(
    which: str, position: int, insert: str, drop: int
) -> None:
    headers = signed()
    value = headers[which]
    position = min(position, len(value))
    headers[which] = value[:position] + insert + value[position + drop :]
    _only_our_errors(headers)


@settings(max_examples=200, deadline=None)
@given(method=st.text(max_size=10), url=st.text(max_size=80), body=st.binary(max_size=16))
def test_arbitrary_method_and_url_raise_only_our_errors(method: str, url: str, body: bytes) -> None:
    _only_our_errors(signed(), method=method, url=url, body=body)


# --- a body still to come (a route that streams it) --------------------------------------------


def test_a_body_to_come_is_authenticated_from_the_head_and_checked_by_the_caller() -> None:
    """``body_follows``: everything but the body is verified, and the signed Content-Digest is
    handed back for the caller to check the body against once it is in."""
    headers = signed(method="PATCH")
    result = verify_request(
        method="PATCH", url=URL, headers=headers, body=None, resolve_key=resolve, now=NOW,
        body_follows=True,
    )  # fmt: skip
    assert result == VerifiedSignature(
        keyid=KEY.kid, created=NOW, nonce=NONCE, content_digest=digest_field(BODY)
    )
    check_content_digest(result.content_digest, BODY)
    with pytest.raises(AuthenticationError) as caught:
        check_content_digest(result.content_digest, BODY + b"x")
    assert caught.value.code == "auth.digest_mismatch"


def test_a_body_to_come_needs_a_signed_content_digest_and_no_body_yet() -> None:
    """Without a body in hand, the signature must still cover a Content-Digest (else nothing
    would bind the body to the signer), and a tampered head still fails as usual."""
    unsigned_body = signed(method="PATCH", body=None)
    with pytest.raises(AuthenticationError) as caught:
        verify_request(
            method="PATCH", url=URL, headers=unsigned_body, body=None, resolve_key=resolve,
            now=NOW, body_follows=True,
        )  # fmt: skip
    assert caught.value.code == "auth.missing_component"
    headers = signed(method="PATCH")
    with pytest.raises(AuthenticationError) as caught:
        verify_request(
            method="PATCH", url=URL, resolve_key=resolve, now=NOW, body=None, body_follows=True,
            headers=headers | {"Content-Digest": digest_field(b"another body")},
        )  # fmt: skip
    assert caught.value.code == "auth.bad_signature"
    with pytest.raises(ValueError, match="body_follows"):
        verify_request(
            method="PATCH", url=URL, headers=headers, body=BODY, resolve_key=resolve, now=NOW,
            body_follows=True,
        )  # fmt: skip
