"""RFC 9421 HTTP Message Signatures for the hub's API: the client signs, the hub verifies.

The profile (docs/design/hub.md, Authentication):

* one signature, label ``pgs``, algorithm ``ed25519`` (RFC 9421 §3.3.6);
* covered components ``("@method" "@target-uri")``, plus ``"content-digest"`` (RFC 9530,
  :mod:`hub.auth.digest`) whenever the request has a body;
* parameters ``created``, ``nonce``, ``keyid`` (the signing key's RFC 7638 thumbprint) and
  ``alg="ed25519"``; ``expires`` is optional, ``tag`` and any other parameter are refused;
* ``created`` within ``now ± WINDOW_SECONDS``.

Signature bases, Structured Field serialization and the Ed25519 check are done by the
``http-message-signatures`` package; this module adds what the package leaves to its caller:
the profile above, checks made against the clock we are given (``now``) rather than the wall
clock, caps on untrusted header sizes, and one specific, stable error code per failure. Every
failure is a :class:`~hub.errors.AuthenticationError` (or an :class:`~hub.errors.InvalidRequest`
for a request the hub could not have received as such, e.g. an unusable URL, or an unreadable
Content-Digest); no other exception escapes :func:`verify_request`.

**Target URI.** ``@target-uri`` is the absolute URL of the request. The client must sign the
exact URL it sends (scheme, host and port as written in ``Host``, path and query, percent-encoding
unchanged); a fragment and user information are never part of it. The server does not use
``request.url`` from aiohttp (which a proxy or Host rewriting may have changed), but passes the
URL rebuilt from the scheme it serves, the ``Host`` header and ``request.raw_path`` (path and
query as sent, percent-encoding intact; not ``path_qs``, which is decoded and would no longer
match). An empty path is read as ``/``.

**Replay.** :func:`verify_request` checks that the signature is fresh, not that it is new: it
returns the nonce, and the caller must store ``(keyid, nonce)`` until ``created + window`` and
refuse a pair it has already seen (the ``nonces`` table).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import http_sf
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureComponentResolver,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)
from http_message_signatures.algorithms import ED25519

from pgs_hub.crypto import ed25519_verify
from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.keys import SigningKey, VerifyKey
from pgs_hub.hub.auth.digest import check_content_digest
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError, InvalidRequest
from pgs_hub.hub.settings import DEFAULTS

SIGNATURE_LABEL: Final = "pgs"
WINDOW_SECONDS: Final = DEFAULTS.clock_skew_seconds
ALGORITHM: Final = "ed25519"

# Stable error codes (hub.errors.AuthenticationError.code).
MISSING_SIGNATURE: Final = Code.AUTH_MISSING_SIGNATURE
MALFORMED_SIGNATURE: Final = Code.AUTH_MALFORMED_SIGNATURE
UNSUPPORTED_ALGORITHM: Final = Code.AUTH_UNSUPPORTED_ALGORITHM
MISSING_COMPONENT: Final = Code.AUTH_MISSING_COMPONENT
EXPIRED: Final = Code.AUTH_EXPIRED
BAD_SIGNATURE: Final = Code.AUTH_BAD_SIGNATURE
UNKNOWN_KEY: Final = Code.AUTH_UNKNOWN_KEY
INVALID_TARGET: Final = Code.REQUEST_INVALID_TARGET

#: Longest Signature-Input or Signature field value read (ours are about 200 characters).
MAX_FIELD_LENGTH: Final = 4096
#: Most components one signature may cover.
MAX_COMPONENTS: Final = 16
#: A nonce is 16 to 128 base64url characters (at least 96 random bits); ours are 22 (128 bits).
NONCE_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,128}")
#: A keyid is printable ASCII of at most this length; what it names is the resolver's business.
MAX_KEYID_LENGTH: Final = 128

_NONCE_BYTES: Final = 16
_SIGNATURE_LENGTH: Final = 64
_REQUIRED_COMPONENTS: Final = ("@method", "@target-uri")
_DIGEST_COMPONENT: Final = "content-digest"
_REQUIRED_PARAMS: Final = ("created", "nonce", "keyid", "alg")
_ALLOWED_PARAMS: Final = frozenset({*_REQUIRED_PARAMS, "expires"})
_SIGNATURE_FIELDS: Final = frozenset({"signature", "signature-input", "content-digest"})
_KEYID: Final = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEYID_LENGTH}}}")


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified request signature establishes: who signed it, when, with which nonce;
    and, when the body was still to come (``verify_request(..., body_follows=True)``), the
    signed Content-Digest the body must then match."""

    keyid: str
    created: int
    nonce: str
    content_digest: str | None = None


# --- adapters for http-message-signatures ---------------------------------------------------


@dataclass
class _Message:
    """The request shape the package reads: ``.method``, ``.url`` and ``.headers``."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


#: The package's component resolver; building one parses and checks the method and URL. (Typed
#: here because the package leaves its constructor unannotated.)
_component_resolver: Callable[[_Message], object] = HTTPSignatureComponentResolver


class _SingleKey(HTTPSignatureKeyResolver):
    """Hands the package the one key our caller's resolver already returned."""

    def __init__(self, keyid: str, key: ed25519.Ed25519PublicKey) -> None:
        self._keyid = keyid
        self._key = key

    def resolve_public_key(self, key_id: str) -> ed25519.Ed25519PublicKey | None:
        return self._key if key_id == self._keyid else None

    def resolve_private_key(self, key_id: str) -> Any:
        raise HTTPMessageSignaturesException("this resolver only verifies")


class _Ed25519(ED25519):
    """The package's Ed25519, verifying as :meth:`VerifyKey.verify` does: libsodium first, and
    OpenSSL's verdict on every signature libsodium refuses (:mod:`crypto.ed25519_verify`)."""

    def verify(self, signature: bytes, message: bytes) -> None:
        key: ed25519.Ed25519PublicKey = self.public_key
        ed25519_verify.verify(key, key.public_bytes_raw(), signature, message)


class _Verifier(HTTPMessageVerifier):
    """The package's verifier, with its time checks made against our ``now``, not the wall clock."""

    def __init__(self, *, keyid: str, key: ed25519.Ed25519PublicKey, now: int, window: int) -> None:
        super().__init__(signature_algorithm=_Ed25519, key_resolver=_SingleKey(keyid, key))
        self._now = now
        self._window = window

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        created = sig_input.params.get("created")
        expires = sig_input.params.get("expires")
        if type(created) is not int or abs(created - self._now) > self._window:
            raise InvalidSignature("created is outside the window")
        if expires is not None and (type(expires) is not int or expires < self._now):
            raise InvalidSignature("the signature has expired")


# --- client side ------------------------------------------------------------------------------


def new_nonce() -> str:
    """A fresh random nonce: 128 bits, base64url without padding (22 characters)."""
    return b64u_encode(secrets.token_bytes(_NONCE_BYTES))


def sign_request(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    key: SigningKey,
    now: int,
    nonce: str | None = None,
    content_digest: str | None = None,
) -> dict[str, str]:
    """Sign a request; return the header fields to add to it.

    The result holds ``Signature-Input`` and ``Signature``, and ``Content-Digest`` when ``body``
    is not ``None`` (an empty body is digested too). ``url`` must be the exact absolute URL the
    request is sent to and ``method`` its upper-case method; ``headers`` are the request's other
    fields and must not already hold any of the three. ``nonce`` defaults to 128 random bits.

    ``content_digest`` instead of ``body``: the body's Content-Digest, computed beforehand
    (:func:`~hub.auth.digest.content_digest`), so that a large body is hashed once, ahead of
    time and off the loop, while its signature is made fresh just before it is sent (its URL
    may not be known while it is hashed: a new upload's first part).

    Raises :class:`~hub.errors.InvalidRequest` (code ``request.invalid_target``) for a method or
    URL that cannot be signed, and :class:`ValueError` for a bad nonce or conflicting headers.
    """
    clash = sorted(name for name in headers if name.lower() in _SIGNATURE_FIELDS)
    if clash:
        raise ValueError(f"sign_request sets these fields itself: {', '.join(clash)}")
    if nonce is None:
        nonce = new_nonce()
    elif not NONCE_PATTERN.fullmatch(nonce):
        raise ValueError("nonce must be 16 to 128 base64url characters")
    message = _Message(method=method, url=url, headers=dict(headers))
    covered: tuple[str, ...] = _REQUIRED_COMPONENTS
    if content_digest is not None:
        if body is not None:
            raise ValueError("give the body or its content_digest, not both")
        message.headers["Content-Digest"] = content_digest
        covered += (_DIGEST_COMPONENT,)
    signer = HTTPMessageSigner(signature_algorithm=ED25519)
    try:
        prepared = signer.prepare(
            message,
            key_id=key.kid,
            created=datetime.fromtimestamp(now, tz=UTC),
            nonce=nonce,
            label=SIGNATURE_LABEL,
            covered_component_ids=covered,
            body=body,  # not None: the package adds Content-Digest and covers it
            use_existing_digest=content_digest is not None,  # its format checked, not its body
        )
        signer.apply(message, prepared, key.sign(prepared.signature_base))
    except HTTPMessageSignaturesException as exc:
        raise InvalidRequest(
            "the request method or URL cannot be signed (use an upper-case method and an "
            "absolute, percent-encoded URL)",
            code=INVALID_TARGET,
        ) from exc
    added = {name.lower(): value for name, value in message.headers.items()}
    result = {
        "Signature-Input": added["signature-input"],
        "Signature": added["signature"],
    }
    if body is not None or content_digest is not None:
        result = {"Content-Digest": added["content-digest"], **result}
    return result


# --- server side ------------------------------------------------------------------------------


def verify_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | bytearray | None,
    resolve_key: Callable[[str], VerifyKey],
    now: int,
    window: int = WINDOW_SECONDS,
    body_follows: bool = False,
) -> VerifiedSignature:
    """Verify the ``pgs`` signature of a request; return its keyid, created time and nonce.

    ``url`` is the absolute URL as the client sent it (the server rebuilds it from its scheme, the
    ``Host`` header and the raw path with query); ``headers`` may repeat a field (an aiohttp
    ``CIMultiDictProxy``), whose lines are then combined as RFC 9421 §2.1 says; ``body`` is the
    content as received (``None`` and ``b""`` both mean no body). ``body_follows`` says the request
    has a body not read yet (a route that streams it): the signature must cover
    ``content-digest`` as for any body, and check 7 is the caller's, once the body is in, against
    the returned :attr:`VerifiedSignature.content_digest` (:func:`check_content_digest`).

    Checks, in order, each failing with its own code:

    1. ``Signature-Input`` and ``Signature`` are present with a ``pgs`` member
       (``auth.missing_signature``); they are well-formed Structured Fields of bounded size,
       ``pgs`` is their only member, the signature is 64 bytes, the parameters are exactly
       ``created``, ``nonce``, ``keyid``, ``alg`` and optionally ``expires``, with the right types
       (``auth.malformed_signature``);
    2. ``alg`` is ``"ed25519"`` (``auth.unsupported_algorithm``);
    3. ``created`` is within ``now ± window`` and ``expires``, if any, is not past
       (``auth.expired``);
    4. ``@method`` and ``@target-uri`` are covered, and ``content-digest`` is covered when the
       body is not empty or a Content-Digest field is present; every covered field is present
       (``auth.missing_component``); the method and URL are usable (else ``InvalidRequest``,
       ``request.invalid_target``);
    5. ``resolve_key(keyid)`` finds the key: it raises :class:`~hub.errors.AuthenticationError`
       itself for an unknown, retired or revoked key (a ``LookupError`` it raises becomes
       ``auth.unknown_key``);
    6. the Ed25519 signature over the RFC 9421 signature base is valid (``auth.bad_signature``);
    7. the body matches the signed Content-Digest (``auth.digest_mismatch``; an unreadable digest
       is an ``InvalidRequest``).

    The nonce is *not* checked for reuse here: that needs storage. The caller must record
    ``(keyid, nonce)`` for the window and refuse a repeat.
    """
    if window < 0:
        raise ValueError("window must not be negative")
    fields = _combine_fields(headers)
    components, params = _read_signature(fields)
    keyid, created, nonce = _check_params(params, now=now, window=window)

    if body_follows and body:
        raise ValueError("body_follows is for a body not read yet")
    has_body = bool(body) or body_follows
    _check_components(components, fields, has_body=has_body)

    message = _Message(method=method, url=url, headers=fields)
    _check_target(message)
    try:
        verify_key = resolve_key(keyid)
    except LookupError as exc:
        raise AuthenticationError("the signing key is not known", code=UNKNOWN_KEY) from exc
    verifier = _Verifier(keyid=keyid, key=verify_key.key, now=now, window=window)
    try:
        verifier.verify(message, max_age=None, require_components=_REQUIRED_COMPONENTS)
    except (HTTPMessageSignaturesException, ValueError, TypeError) as exc:
        raise AuthenticationError(
            "the request signature is not valid for this request", code=BAD_SIGNATURE
        ) from exc
    if body_follows:
        return VerifiedSignature(
            keyid=keyid, created=created, nonce=nonce, content_digest=fields[_DIGEST_COMPONENT]
        )
    if _DIGEST_COMPONENT in components:
        check_content_digest(fields[_DIGEST_COMPONENT], body or b"")
    return VerifiedSignature(keyid=keyid, created=created, nonce=nonce)


def claimed_keyid(headers: Mapping[str, str]) -> str:
    """The ``keyid`` that the request's ``pgs`` signature *claims*, before anything is verified.

    For a server that must look the key up asynchronously before calling :func:`verify_request`
    (whose ``resolve_key`` is synchronous). The value is untrusted until verification succeeds.
    Raises the same ``auth.missing_signature`` / ``auth.malformed_signature`` errors as
    :func:`verify_request` for a missing or unreadable signature.
    """
    _, params = _read_signature(_combine_fields(headers))
    keyid = params.get("keyid")
    if not isinstance(keyid, str) or not _KEYID.fullmatch(keyid):
        raise _malformed(f"keyid must be a String of 1 to {MAX_KEYID_LENGTH} visible characters")
    return keyid


def _read_signature(fields: Mapping[str, str]) -> tuple[list[str], dict[str, object]]:
    """Parse the ``pgs`` member of Signature-Input and Signature: its components and parameters.

    Checks presence, syntax, sizes, the single label and the signature length; not the values.
    """
    signature_input = fields.get("signature-input")
    signature_field = fields.get("signature")
    if signature_input is None or signature_field is None:
        raise AuthenticationError(
            "the request is not signed: Signature-Input and Signature are required",
            code=MISSING_SIGNATURE,
        )
    inputs = _parse_dictionary(signature_input, "Signature-Input")
    signatures = _parse_dictionary(signature_field, "Signature")
    if SIGNATURE_LABEL not in inputs or SIGNATURE_LABEL not in signatures:
        raise AuthenticationError(
            f"the request carries no signature labelled {SIGNATURE_LABEL!r}",
            code=MISSING_SIGNATURE,
        )
    if len(inputs) != 1 or len(signatures) != 1:
        raise _malformed(f"exactly one signature, labelled {SIGNATURE_LABEL!r}, is accepted")
    components, params = _signature_input(inputs[SIGNATURE_LABEL])
    _signature_bytes(signatures[SIGNATURE_LABEL])
    return components, params


def _malformed(reason: str) -> AuthenticationError:
    return AuthenticationError(f"malformed request signature: {reason}", code=MALFORMED_SIGNATURE)


def _combine_fields(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; repeated lines trimmed and joined with ``", "`` (RFC 9421 §2.1)."""
    lines: dict[str, list[str]] = {}
    for name, value in headers.items():
        lines.setdefault(name.lower(), []).append(value.strip(" \t"))
    return {name: ", ".join(values) for name, values in lines.items()}


class _DuplicateMemberError(ValueError):
    pass


def _reject_duplicate(key: str, context: str) -> None:
    raise _DuplicateMemberError(f"{context} member {key!r} appears twice")


def _parse_dictionary(value: str, name: str) -> dict[str, object]:
    if len(value) > MAX_FIELD_LENGTH:
        raise _malformed(f"{name} is longer than {MAX_FIELD_LENGTH} characters")
    try:
        parsed: object = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate
        )
    except (ValueError, TypeError) as exc:  # StructuredFieldError and UnicodeError are ValueErrors
        raise _malformed(f"{name} is not a Structured Field Dictionary") from exc
    if not isinstance(parsed, dict):  # pragma: no cover - tltype="dictionary" returns a dict
        raise _malformed(f"{name} is not a Structured Field Dictionary")
    return {str(key): member for key, member in parsed.items()}


def _signature_input(member: object) -> tuple[list[str], dict[str, object]]:
    """The covered component names and the parameters of our Signature-Input member."""
    if not isinstance(member, tuple) or len(member) != 2 or not isinstance(member[0], list):
        raise _malformed("Signature-Input must be an Inner List of component names")
    items, params = member
    if len(items) > MAX_COMPONENTS:
        raise _malformed(f"at most {MAX_COMPONENTS} components may be covered")
    components: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, tuple) or not isinstance(item[0], str):
            raise _malformed("covered components must be Structured Field Strings")
        name, item_params = item
        identity = name + "".join(f";{key}={value!r}" for key, value in sorted(item_params.items()))
        if identity in seen:
            raise _malformed(f"component {name!r} is covered twice")
        seen.add(identity)
        # Only a bare name counts towards the components we require; a component with parameters
        # (e.g. "content-digest";sf) is passed to the package as it is.
        components.append(name if not item_params else identity)
    return components, dict(params)


def _signature_bytes(member: object) -> bytes:
    if not isinstance(member, tuple) or len(member) != 2:  # pragma: no cover - parser shape
        raise _malformed("Signature must be a Byte Sequence")
    value, params = member
    if not isinstance(value, bytes) or params:
        raise _malformed("Signature must be a Byte Sequence without parameters")
    if len(value) != _SIGNATURE_LENGTH:
        raise _malformed(f"an Ed25519 signature is {_SIGNATURE_LENGTH} bytes")
    return value


def _check_params(params: Mapping[str, object], *, now: int, window: int) -> tuple[str, int, str]:
    """Return ``(keyid, created, nonce)`` after checking every parameter of the signature."""
    for name in params:
        if name not in _ALLOWED_PARAMS:
            raise _malformed(f"parameter {name!r} is not accepted")
    for name in _REQUIRED_PARAMS:
        if name not in params:
            raise _malformed(f"parameter {name!r} is required")
    created, expires = params["created"], params.get("expires")
    keyid, nonce, alg = params["keyid"], params["nonce"], params["alg"]
    if type(created) is not int or (expires is not None and type(expires) is not int):
        raise _malformed("created and expires must be Integers (seconds since the epoch)")
    if not isinstance(keyid, str) or not _KEYID.fullmatch(keyid):
        raise _malformed(f"keyid must be a String of 1 to {MAX_KEYID_LENGTH} visible characters")
    if not isinstance(nonce, str) or not NONCE_PATTERN.fullmatch(nonce):
        raise _malformed("nonce must be a String of 16 to 128 base64url characters")
    if not isinstance(alg, str):
        raise _malformed("alg must be a String")
    if alg != ALGORITHM:
        raise AuthenticationError(
            f"signature algorithm {alg!r} is not accepted; use {ALGORITHM!r}",
            code=UNSUPPORTED_ALGORITHM,
        )
    if abs(created - now) > window:
        raise AuthenticationError(
            f"the signature's created time is outside the allowed clock skew of ±{window} "
            "seconds: check the client's clock",
            code=EXPIRED,
        )
    if expires is not None and expires < now:
        raise AuthenticationError("the signature has expired", code=EXPIRED)
    return keyid, created, nonce


def _check_components(components: list[str], fields: Mapping[str, str], *, has_body: bool) -> None:
    for required in _REQUIRED_COMPONENTS:
        if required not in components:
            raise AuthenticationError(
                f"the signature must cover {required!r}", code=MISSING_COMPONENT
            )
    if (has_body or _DIGEST_COMPONENT in fields) and _DIGEST_COMPONENT not in components:
        raise AuthenticationError(
            "the signature must cover content-digest when the request has a body",
            code=MISSING_COMPONENT,
        )
    for name in components:
        if not name.startswith("@") and name.split(";", 1)[0] not in fields:
            raise AuthenticationError(
                f"the signed field {name.split(';', 1)[0]!r} is absent from the request",
                code=MISSING_COMPONENT,
            )


def _check_target(message: _Message) -> None:
    """Refuse a method or URL the signature base cannot be built from (not the client's fault
    alone: the server rebuilt the URL from the Host header)."""
    try:
        _component_resolver(message)
    except HTTPMessageSignaturesException as exc:
        raise InvalidRequest("the request URL or method is not valid", code=INVALID_TARGET) from exc
