"""RFC 9530 ``Content-Digest`` of a request body: make one, check one.

The field is a Structured Field Dictionary (RFC 8941/9651): each member names a hashing algorithm
and holds the digest as a Byte Sequence, e.g.
``sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:``.

What we send: ``sha-256`` only. What we accept: ``sha-256`` and ``sha-512`` (the two algorithms
RFC 9530 §5 does not deprecate); every member present must be one of them, the right length,
without parameters, and must match the body. A field naming any other algorithm (``md5``,
``sha``, ``unixsum`` …) is refused rather than skipped: a digest we cannot check is not allowed to
sit next to one we can, so that there is only one reading of a signed field.

Errors: a field that is absent or cannot be read is an :class:`~hub.errors.InvalidRequest`; a
well-formed digest that does not match the body is an :class:`~hub.errors.AuthenticationError`
with code ``auth.digest_mismatch``, because the body is then not the one the signer signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Final

import http_sf
from http_message_signatures import ContentDigest

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError, InvalidRequest

DIGEST_MISMATCH: Final = Code.AUTH_DIGEST_MISMATCH
DIGEST_MISSING: Final = Code.REQUEST_DIGEST_MISSING
DIGEST_MALFORMED: Final = Code.REQUEST_DIGEST_MALFORMED
DIGEST_UNSUPPORTED: Final = Code.REQUEST_DIGEST_UNSUPPORTED

#: Longest Content-Digest field value read; both digests together take about 150 characters.
MAX_FIELD_LENGTH: Final = 512

#: RFC 9530 algorithm key -> hashlib name.
_HASHES: Final[dict[str, str]] = {"sha-256": "sha256", "sha-512": "sha512"}


class _DuplicateMemberError(ValueError):
    pass


def _reject_duplicate(key: str, context: str) -> None:
    raise _DuplicateMemberError(f"{context} member {key!r} appears twice")


def content_digest(body: bytes) -> str:
    """The ``Content-Digest`` field value for ``body``: ``sha-256=:<base64>:``."""
    return ContentDigest.create(body)


def check_content_digest(
    header_value: str | None,
    body: bytes | bytearray,
    *,
    computed: Mapping[str, bytes] | None = None,
) -> None:
    """Raise unless ``header_value`` is a Content-Digest we accept and matches ``body`` exactly.

    ``body`` is the content as received, before any content decoding. ``computed`` holds digests
    of exactly those bytes that the caller made as they arrived (``{"sha-256": ...}``), so that
    a body of several MiB is not read again after its last byte; any other algorithm the field
    names is computed from ``body``. Returns nothing on success; see the module docstring for
    which error is raised when.
    """
    if header_value is None:
        raise InvalidRequest("the request has a body but no Content-Digest", code=DIGEST_MISSING)
    digests = _parse(header_value)
    known = computed or {}
    for algorithm, expected in digests.items():
        actual = known.get(algorithm)
        if actual is None:
            actual = hashlib.new(_HASHES[algorithm], body).digest()
        if not hmac.compare_digest(expected, actual):
            raise AuthenticationError(
                "the request body does not match its Content-Digest", code=DIGEST_MISMATCH
            )


def digest_algorithms(header_value: str) -> tuple[str, ...]:
    """The algorithms a Content-Digest we accept names (``sha-256``, ``sha-512``), read before the
    body it describes has arrived, so that the body can be hashed with each as it comes
    (:func:`new_hashes`); raises like :func:`check_content_digest` for a field we refuse."""
    return tuple(_parse(header_value))


def new_hashes(algorithms: Iterable[str]) -> dict[str, Any]:
    """Fresh hashlib objects for these RFC 9530 algorithm keys (``sha-256`` always among them:
    tus ``Upload-Checksum`` is compared with it)."""
    return {name: hashlib.new(_HASHES[name]) for name in {"sha-256", *algorithms}}


def checked_sha256(header_value: str | None) -> bytes | None:
    """The ``sha-256`` member of a Content-Digest that :func:`check_content_digest` has already
    accepted for a body (so it *is* the body's SHA-256), or None when the field has none. Lets a
    caller that needs the body's SHA-256 again (tus ``Upload-Checksum``) skip hashing it twice."""
    if header_value is None:
        return None
    return _parse(header_value).get("sha-256")


def _parse(header_value: str) -> dict[str, bytes]:
    if len(header_value) > MAX_FIELD_LENGTH:
        raise InvalidRequest(
            f"Content-Digest is longer than {MAX_FIELD_LENGTH} characters", code=DIGEST_MALFORMED
        )
    try:
        parsed: object = http_sf.parse(
            header_value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate
        )
    except (ValueError, TypeError) as exc:  # StructuredFieldError and UnicodeError are ValueErrors
        raise InvalidRequest(
            "Content-Digest is not a Structured Field Dictionary", code=DIGEST_MALFORMED
        ) from exc
    if not isinstance(parsed, dict) or not parsed:
        raise InvalidRequest("Content-Digest holds no digest", code=DIGEST_MALFORMED)
    digests: dict[str, bytes] = {}
    for algorithm, member in parsed.items():
        if algorithm not in _HASHES:
            raise InvalidRequest(
                f"Content-Digest algorithm {algorithm!r} is not accepted; use sha-256",
                code=DIGEST_UNSUPPORTED,
            )
        value, params = member if isinstance(member, tuple) else (member, {})
        if not isinstance(value, bytes) or params:
            raise InvalidRequest(
                f"Content-Digest {algorithm} must be a Byte Sequence without parameters",
                code=DIGEST_MALFORMED,
            )
        if len(value) != hashlib.new(_HASHES[algorithm]).digest_size:
            raise InvalidRequest(
                f"Content-Digest {algorithm} has the wrong length", code=DIGEST_MALFORMED
            )
        digests[algorithm] = value
    return digests
