"""Strict base64url (RFC 4648 §5) without padding, as JOSE requires (RFC 7515 §2).

Decoding accepts exactly one spelling for each byte string: no padding, no characters outside the
URL-safe alphabet, and zero unused trailing bits. Two spellings of the same bytes would let an
attacker change the signed or hashed text without changing what it means.
"""

from __future__ import annotations

import base64
import binascii

import pybase64

from pgs_hub.crypto.errors import EncodingError, OversizeError

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# The bits a final letter carries beyond the data, by ``len(text) % 4``: with 2 letters left over
# (one byte) the last letter's low 4 bits are unused, with 3 (two bytes) its low 2 bits.
_UNUSED_BITS = {2: 0x0F, 3: 0x03}
_VALUE = {letter: value for value, letter in enumerate(_ALPHABET)}


def _strict_table() -> bytes:
    """The short fast path's table: the URL-safe letters to the standard alphabet, every other
    byte to "!", which the strict decoder refuses (so "+", "/", "=" and white space are too)."""
    table = bytearray(b"!" * 256)
    for letter in _ALPHABET:
        table[letter] = letter
    table[ord("-")], table[ord("_")] = ord("+"), ord("/")
    return bytes(table)


_STRICT = _strict_table()
_PADDING = (b"", b"", b"==", b"=")


# From this length on, pybase64's SIMD decoder: 1.3 against 18 us for a 5 kB envelope's payload
# (issue 17, bench/README.md "Tenth round"); below it, the table pass and binascii's strict
# decoder are as fast or faster (0.26 against 0.93 us for 43 letters, the checks included).
_SIMD_FROM = 256
# The letters pybase64 would read that base64url has not, as integers: ``61 in raw`` is one
# ``memchr`` (36 ns over a 358-byte log entry), ``b"=" in raw`` a substring search (351 ns).
_EQUALS, _PLUS, _SLASH = b"=+/"


def b64u_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url text."""
    return b64u_ascii(data).decode("ascii")


def b64u_ascii(data: bytes) -> bytes:
    """:func:`b64u_encode` as ASCII bytes, for a body written as bytes (a page of audit log
    entries): no text object made and encoded again. From :data:`_SIMD_FROM` bytes on, pybase64's
    encoder (0.99 against 1.3 us for a 358-byte log entry, 1.2 against 2.6 us for 1 kB); below
    it, the standard library's, which is faster there (0.49 against 0.96 us for 32 bytes)."""
    if len(data) >= _SIMD_FROM:
        return pybase64.urlsafe_b64encode(data).rstrip(b"=")
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64u_decode(text: str, *, field: str = "value", max_bytes: int | None = None) -> bytes:
    """Decode canonical unpadded base64url, raising :class:`EncodingError` on any other form.

    ``field`` names the input in the error message; ``max_bytes`` bounds the decoded size and is
    checked before decoding so oversized input costs no work.

    Every check is a C-level pass over the text (audit logs decode a million entries): ASCII, then
    nothing left once the alphabet's letters are deleted, a possible length, and zero unused bits
    in the last letter, which is what makes the spelling canonical (it is what encoding the
    decoded bytes again would give).
    """
    if max_bytes is not None and len(text) > (max_bytes * 4 + 2) // 3:
        raise OversizeError(f"{field} is longer than {max_bytes} bytes")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise EncodingError(f"{field} is not unpadded base64url") from None
    tail = len(raw) % 4
    # Fast paths: they take exactly the canonical spellings the checks below take; whatever they
    # refuse goes through those checks, for the precise error. Short text: a table pass (every
    # byte outside the alphabet becomes one the strict decoder refuses) and binascii. Long text:
    # pybase64, which with ``altchars`` also reads "+" and "/" (deprecated) and "=" where a
    # padding may stand, so text holding any of those is left to the checks.
    if tail != 1:
        data: bytes | None = None
        try:
            if len(raw) < _SIMD_FROM:
                spelled = raw.translate(_STRICT) + _PADDING[tail]
                data = binascii.a2b_base64(spelled, strict_mode=True)
            elif not (_EQUALS in raw or _PLUS in raw or _SLASH in raw):
                data = pybase64.b64decode(raw + _PADDING[tail], altchars=b"-_", validate=True)
        except binascii.Error:
            pass
        if data is not None and (not tail or not _VALUE[raw[-1]] & _UNUSED_BITS[tail]):
            return data
    if raw.translate(None, _ALPHABET):
        raise EncodingError(f"{field} is not unpadded base64url")
    if tail == 1:
        raise EncodingError(f"{field} has an impossible base64url length")
    if tail and _VALUE[raw[-1]] & _UNUSED_BITS[tail]:
        raise EncodingError(f"{field} is not canonical base64url (non-zero trailing bits)")
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-tail % 4))
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise EncodingError(f"{field} is not valid base64url") from exc
