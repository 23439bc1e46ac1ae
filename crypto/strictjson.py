"""Strict JSON for signed and encrypted objects.

JOSE objects are parsed from untrusted bytes before any signature is checked, so the parser is the
first line of defence. It refuses anything two parsers could read differently: duplicate member
names (RFC 7515 §5.2, RFC 8259 §4), text after the value, byte-order marks, encodings other than
UTF-8, lone surrogates, ``NaN``/``Infinity`` and deep nesting. Where the caller knows how many
values a document can hold (a JWS, a JWE), it also refuses more before parsing any: building and
checking millions of tiny values from a few megabytes takes seconds of CPU.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, cast

from pgs_hub.crypto.errors import (
    DuplicateKeyError,
    MalformedError,
    OversizeError,
    TrailingDataError,
)

JSONValue = Any  # JSON's recursive type; values are checked where they are used.
JSONObject = dict[str, Any]

DEFAULT_MAX_DEPTH = 16
_BACKSLASH = ord("\\")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKeyError(f"duplicate JSON member {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise MalformedError(f"JSON constant {name} is not allowed")


class _NonFiniteError(ValueError):
    """Raised inside the decoder; :func:`loads` turns it into a MalformedError naming the input."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 is Infinity by another spelling
        raise _NonFiniteError
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
    strict=True,
)


def _check_tree(value: Any, max_depth: int, what: str) -> None:
    """Walk the parsed value iteratively: bounded depth and strings that are valid Unicode."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise OversizeError(f"{what} nests deeper than {max_depth} levels")
            for key, child in item.items():
                _check_text(key, what)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise OversizeError(f"{what} nests deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item, what)


def _check_depth(value: Any, max_depth: int, what: str) -> None:
    """:func:`_check_tree` for a document without ``\\u`` escapes, whose strings need no check:
    only containers are visited (a broadcast's JWE holds ~560 among ~3,900 values and keys)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise OversizeError(f"{what} nests deeper than {max_depth} levels")
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedError(f"{what} contains a lone surrogate escape") from exc


def loads(
    data: bytes,
    *,
    what: str = "JSON",
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_values: int | None = None,
) -> JSONObject:
    """Parse ``data`` as exactly one strict JSON object.

    ``what`` names the document in error messages (for example ``"envelope"``). ``max_values``
    bounds the number of opening brackets and commas in ``data``, counted on the bytes before
    parsing: every container opens with a bracket and every value of a container but its first
    follows a comma, so the document holds at most one value more than that count. Brackets and
    commas inside strings count too, so use it only for documents whose strings cannot hold them
    (base64url, identifiers).
    """
    if len(data) > max_bytes:
        raise OversizeError(f"{what} is larger than {max_bytes} bytes")
    # Each count is a pass over the bytes (about 1.6 us for a 5 kB envelope): the brackets are
    # counted once, for both the value bound and the tree walk's condition below.
    containers = data.count(b"{") + data.count(b"[")
    if max_values is not None and data.count(b",") + containers > max_values:
        raise OversizeError(f"{what} holds more than {max_values} JSON values")
    if data.startswith(b"\xef\xbb\xbf"):
        raise MalformedError(f"{what} starts with a byte-order mark")
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{what} is not UTF-8") from exc
    try:
        value, end = _DECODER.raw_decode(text)
    except RecursionError as exc:
        raise OversizeError(f"{what} nests too deeply") from exc
    except _NonFiniteError as exc:
        raise MalformedError(f"{what} has a number too large to represent") from exc
    except json.JSONDecodeError as exc:
        raise MalformedError(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise MalformedError(f"{what} is not valid JSON: a number is too long") from exc
    if end != len(text):
        raise TrailingDataError(f"{what} has {len(text) - end} characters after the JSON value")
    if not isinstance(value, dict):
        raise MalformedError(f"{what} must be a JSON object")
    # The walk can only fail on a string with a \u escape (decoding as strict UTF-8 refused any
    # encoded surrogate) or on more containers than levels allowed: skip it when neither is there.
    # A backslash is looked for first, as an integer: that is one memchr (0.06 us for 5 kB, 0.39
    # as the one-byte string b"\\"), the two-byte search a slower scan (4.8 us), and JOSE
    # documents (base64url) rarely hold any.
    if _BACKSLASH in data and b"\\u" in data:
        _check_tree(value, max_depth, what)
    elif containers > max_depth:
        _check_depth(value, max_depth, what)
    return cast(JSONObject, value)


# json.dumps builds a new encoder on every call with other than its default arguments (~1 us):
# the hub signs and answers several documents per accepted envelope, so the encoder is made once.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Mapping[str, Any]) -> bytes:
    """Serialize compactly as UTF-8 (the bytes we sign are the bytes we send, never re-encoded)."""
    return _COMPACT.encode(value).encode()


def canonical_members(value: Mapping[str, str]) -> bytes:
    """RFC 7638 §3 form: members sorted by name, no whitespace (used for JWK thumbprints)."""
    return json.dumps(dict(sorted(value.items())), separators=(",", ":")).encode("utf-8")


def require_members(
    obj: Mapping[str, Any],
    *,
    what: str,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> None:
    """Fail on missing required members and on any member the profile does not name."""
    if obj.keys() == required:  # the usual case, answered by one comparison
        return
    missing = sorted(required - obj.keys())
    if missing:
        raise MalformedError(f"{what} lacks required member(s): {', '.join(missing)}")
    extra = sorted(obj.keys() - required - optional)
    if extra:
        raise MalformedError(f"{what} has member(s) the profile does not allow: {', '.join(extra)}")


def get_str(obj: Mapping[str, Any], name: str, *, what: str, max_len: int) -> str:
    """Return member ``name`` as a string, bounded by ``max_len`` characters."""
    value = obj.get(name)
    if not isinstance(value, str):
        raise MalformedError(f"{what}.{name} must be a string")
    if len(value) > max_len:
        raise OversizeError(f"{what}.{name} is longer than {max_len} characters")
    return value
