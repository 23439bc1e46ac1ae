"""Strict base64url (RFC 4648 §5) without padding, as JOSE requires (RFC 7515 §2).

Decoding accepts exactly one spelling for each byte string: no padding, no characters outside the
URL-safe alphabet, and zero unused trailing bits. Two spellings of the same bytes would let an
attacker change the signed or hashed text without changing what it means.
"""

from __future__ import annotations

import base64
import binascii
import re

from crypto.errors import EncodingError, OversizeError

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64u_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str, *, field: str = "value", max_bytes: int | None = None) -> bytes:
    """Decode canonical unpadded base64url, raising :class:`EncodingError` on any other form.

    ``field`` names the input in the error message; ``max_bytes`` bounds the decoded size and is
    checked before decoding so oversized input costs no work.
    """
    if max_bytes is not None and len(text) > (max_bytes * 4 + 2) // 3:
        raise OversizeError(f"{field} is longer than {max_bytes} bytes")
    if not _ALPHABET.fullmatch(text):
        raise EncodingError(f"{field} is not unpadded base64url")
    if len(text) % 4 == 1:
        raise EncodingError(f"{field} has an impossible base64url length")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - excluded by the checks above
        raise EncodingError(f"{field} is not valid base64url") from exc
    if b64u_encode(data) != text:
        raise EncodingError(f"{field} is not canonical base64url (non-zero trailing bits)")
    return data
