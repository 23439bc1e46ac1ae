"""RFC 9530 Content-Digest: the RFC's sample values, every way a field can be refused, and
properties (round trip; arbitrary text raises only our two error types)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.hub.auth.digest import MAX_FIELD_LENGTH, check_content_digest, content_digest
from pgs_hub.hub.errors import AuthenticationError, InvalidRequest

RFC = Path(__file__).resolve().parent.parent / "vectors" / "rfc"
VECTOR: dict[str, Any] = json.loads((RFC / "rfc9530_digest.json").read_text(encoding="utf-8"))
BODY: bytes = VECTOR["body"].encode("utf-8")
SHA256_FIELD: str = VECTOR["digests"][0]["field"]
SHA512_FIELD: str = VECTOR["digests"][1]["field"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_vector_is_the_rfc_input() -> None:
    assert BODY == b'{"hello": "world"}'
    assert [d["algorithm"] for d in VECTOR["digests"]] == ["sha-256", "sha-512"]


def test_content_digest_matches_rfc_9530_sample() -> None:
    assert content_digest(BODY) == SHA256_FIELD


def test_rfc_sample_values_are_hashlib_values() -> None:
    """The stored vectors agree with hashlib, independently of the package we build on."""
    assert f"sha-256=:{b64(hashlib.sha256(BODY).digest())}:" == SHA256_FIELD
    assert f"sha-512=:{b64(hashlib.sha512(BODY).digest())}:" == SHA512_FIELD


def test_content_digest_of_empty_body() -> None:
    assert content_digest(b"") == f"sha-256=:{b64(hashlib.sha256(b'').digest())}:"
    check_content_digest(content_digest(b""), b"")


@pytest.mark.parametrize(
    "field",
    [
        pytest.param(SHA256_FIELD, id="sha-256"),
        pytest.param(SHA512_FIELD, id="sha-512"),
        pytest.param(f"{SHA256_FIELD}, {SHA512_FIELD}", id="both"),
        pytest.param(f"{SHA512_FIELD},{SHA256_FIELD}", id="both-no-space"),
        pytest.param(f"  {SHA256_FIELD}  ", id="surrounding-spaces"),
    ],
)
def test_accepts_rfc_sample_fields(field: str) -> None:
    check_content_digest(field, BODY)


@pytest.mark.parametrize(
    ("field", "body"),
    [
        pytest.param(SHA256_FIELD, BODY + b"\n", id="body-extended"),
        pytest.param(SHA256_FIELD, b'{"hello": "World"}', id="body-one-letter"),
        pytest.param(SHA256_FIELD, b"", id="body-empty"),
        pytest.param(SHA512_FIELD, BODY[:-1], id="sha-512-body-truncated"),
        pytest.param(
            f"{SHA256_FIELD}, sha-512=:{b64(hashlib.sha512(b'other').digest())}:",
            BODY,
            id="one-of-two-wrong",
        ),
    ],
)
def test_mismatch_is_authentication_error(field: str, body: bytes) -> None:
    with pytest.raises(AuthenticationError) as caught:
        check_content_digest(field, body)
    assert caught.value.code == "auth.digest_mismatch"


def test_missing_field_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_content_digest(None, BODY)
    assert caught.value.code == "request.digest_missing"


_SHA256 = hashlib.sha256(BODY).digest()

INVALID = [
    ("md5", f"md5=:{b64(hashlib.md5(BODY).digest())}:", "request.digest_unsupported"),  # noqa: S324
    ("sha", f"sha=:{b64(hashlib.sha1(BODY).digest())}:", "request.digest_unsupported"),  # noqa: S324
    ("unixsum", "unixsum=1374", "request.digest_unsupported"),
    ("sha-384", f"sha-384=:{b64(hashlib.sha384(BODY).digest())}:", "request.digest_unsupported"),
    ("upper-case-name", f"SHA-256=:{b64(_SHA256)}:", "request.digest_malformed"),
    ("known-plus-unknown", f"{SHA256_FIELD}, md5=:AAAA:", "request.digest_unsupported"),
    ("rfc-3230-style", f"SHA-256={b64(_SHA256)}", "request.digest_malformed"),
    ("sha-256-as-token", "sha-256=abc", "request.digest_malformed"),
    ("sha-256-as-string", f'sha-256="{b64(_SHA256)}"', "request.digest_malformed"),
    ("sha-256-as-boolean", "sha-256", "request.digest_malformed"),
    ("sha-256-inner-list", f"sha-256=(:{b64(_SHA256)}:)", "request.digest_malformed"),
    ("sha-256-short", f"sha-256=:{b64(_SHA256[:31])}:", "request.digest_malformed"),
    ("sha-256-long", f"sha-256=:{b64(_SHA256 + b'x')}:", "request.digest_malformed"),
    ("sha-512-with-sha-256-length", f"sha-512=:{b64(_SHA256)}:", "request.digest_malformed"),
    ("with-parameter", f"{SHA256_FIELD};q=1", "request.digest_malformed"),
    ("duplicate-member", f"{SHA256_FIELD}, {SHA256_FIELD}", "request.digest_malformed"),
    ("empty", "", "request.digest_malformed"),
    ("blank", "   ", "request.digest_malformed"),
    ("trailing-comma", f"{SHA256_FIELD},", "request.digest_malformed"),
    ("bad-base64", "sha-256=:!!!!:", "request.digest_malformed"),
    ("unterminated-bytes", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OW", "request.digest_malformed"),
    ("non-ascii", "sha-256=:é:", "request.digest_malformed"),
    ("lone-surrogate", "sha-256=:\ud800:", "request.digest_malformed"),
    ("too-long", "a" * (MAX_FIELD_LENGTH + 1), "request.digest_malformed"),
]


@pytest.mark.parametrize(
    ("field", "code"), [pytest.param(field, code, id=name) for name, field, code in INVALID]
)
def test_invalid_field_is_invalid_request(field: str, code: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_content_digest(field, BODY)
    assert caught.value.code == code


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_round_trip(body: bytes) -> None:
    check_content_digest(content_digest(body), body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256), st.binary(min_size=1, max_size=8))
def test_changed_body_never_matches(body: bytes, extra: bytes) -> None:
    with pytest.raises(AuthenticationError):
        check_content_digest(content_digest(body), body + extra)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200), st.binary(max_size=32))
def test_arbitrary_text_raises_only_our_errors(field: str, body: bytes) -> None:
    with contextlib.suppress(AuthenticationError, InvalidRequest):
        check_content_digest(field, body)
