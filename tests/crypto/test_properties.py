"""Property tests (hypothesis) for the encode/decode and seal/open pairs.

Keys are made once per module; examples are capped so the module runs in a few seconds.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pgs_hub.crypto import jws, strictjson
from pgs_hub.crypto.b64 import b64u_ascii, b64u_decode, b64u_encode
from pgs_hub.crypto.envelope import EnvelopeProfile, open_envelope, parse, seal, verify
from pgs_hub.crypto.errors import (
    CryptoError,
    EncodingError,
    InvalidKeyError,
    NotARecipientError,
    SignatureError,
)
from pgs_hub.crypto.keys import KeySet
from tests.security import figures

if TYPE_CHECKING:
    from conftest import EnvelopeForge

FAST = settings(max_examples=40, deadline=None)
MANY = settings(max_examples=300, deadline=None)
B64 = settings(max_examples=500, deadline=None)

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
APP_HEADERS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)


@pytest.fixture(scope="module")
def pool() -> tuple[KeySet, ...]:
    """Five possible recipients."""
    return tuple(KeySet.generate() for _ in range(5))


def receive(
    raw: bytes, profile: EnvelopeProfile, sender: KeySet, recipients: tuple[KeySet, ...]
) -> list[bytes]:
    """Everything a receiver does; returns what each recipient read (or raises)."""
    verified = verify(parse(raw, profile=profile), sender.signing.public)
    return [open_envelope(verified, r.decryption, profile=profile).plaintext for r in recipients]


# --- seal / open ----------------------------------------------------------------------------------


@FAST
@given(
    plaintext=st.binary(max_size=2048),
    app_header=APP_HEADERS,
    chosen=st.lists(st.integers(0, 4), min_size=1, max_size=5, unique=True),
)
def test_seal_open_round_trip(
    forge: EnvelopeForge,
    pool: tuple[KeySet, ...],
    plaintext: bytes,
    app_header: dict[str, Any],
    chosen: list[int],
) -> None:
    profile, sender = forge.profile, forge.sender
    recipients = tuple(pool[i] for i in chosen)
    raw = seal(
        profile=profile,
        app_header=app_header,
        plaintext=plaintext,
        signer=sender.signing,
        recipients=[r.decryption.public for r in recipients],
    )
    verified = verify(parse(raw, profile=profile), sender.signing.public)
    assert verified.app_header == app_header
    assert verified.recipient_kids == tuple(r.decryption.kid for r in recipients)
    keys = set()
    for recipient in recipients:
        opened = open_envelope(verified, recipient.decryption, profile=profile)
        assert opened.plaintext == plaintext
        keys.add(opened.content_key)
    assert len(keys) == 1  # one content key for everyone
    # a key not listed cannot decrypt
    for index in set(range(5)) - set(chosen):
        with pytest.raises(NotARecipientError, match="not among the envelope's recipients"):
            open_envelope(verified, pool[index].decryption, profile=profile)


# --- tampering ------------------------------------------------------------------------------------


@MANY
@given(data=st.data())
def test_any_single_byte_change_is_refused(forge: EnvelopeForge, data: st.DataObject) -> None:
    raw = forge.raw
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]), label="byte")
    changed = raw[:index] + bytes([byte]) + raw[index + 1 :]
    accepted = not refused(changed, forge)
    figures.record(SINGLE_BYTE, tried=1, accepted=accepted)
    assert not accepted, f"byte {index} changed to {byte} was accepted"


def test_every_position_with_a_bit_flipped_is_refused(forge: EnvelopeForge) -> None:
    """The deterministic companion of the property above: every byte, lowest bit flipped."""
    accepted = []
    for index in range(len(forge.raw)):
        changed = bytearray(forge.raw)
        changed[index] ^= 1
        if not refused(bytes(changed), forge):
            accepted.append(index)
    figures.record(SINGLE_BYTE, tried=len(forge.raw), accepted=len(accepted))
    assert accepted == []


SINGLE_BYTE = "single-byte changes (every bit position + hypothesis)"


def refused(raw: bytes, forge: EnvelopeForge) -> bool:
    """Whether the receiving side refuses ``raw`` with a crypto error."""
    try:
        receive(raw, forge.profile, forge.sender, forge.recipients)
    except CryptoError:
        return True
    return False


@FAST
@given(data=st.data())
def test_recipient_list_edits_break_the_sender_signature(
    forge: EnvelopeForge, outsider: KeySet, data: st.DataObject
) -> None:
    """Remove, duplicate-free add, or reorder recipients; keep the sender's signature."""
    obj = forge.jwe()
    entries = obj["recipients"]
    edit = data.draw(st.sampled_from(["remove", "add", "reorder"]), label="edit")
    if edit == "remove":
        del entries[data.draw(st.integers(0, len(entries) - 1), label="which")]
    elif edit == "add":
        extra = json.loads(json.dumps(entries[0]))
        extra["header"]["kid"] = outsider.decryption.kid
        entries.insert(data.draw(st.integers(0, len(entries)), label="where"), extra)
    else:
        order = data.draw(
            st.permutations(range(len(entries))).filter(lambda p: list(p) != [0, 1, 2])
        )
        obj["recipients"] = [entries[i] for i in order]
    payload_b64 = b64u_encode(strictjson.dumps(obj))
    original = forge.outer()
    tampered = strictjson.dumps({**original, "payload": payload_b64})
    with pytest.raises(SignatureError, match="does not verify"):
        verify(parse(tampered, profile=forge.profile), forge.sender.signing.public)

    # re-signed by another participant under its own kid: refused for the key id...
    by_other = jws.sign(strictjson.dumps(obj), outsider.signing, typ=forge.profile.jws_typ)
    with pytest.raises(InvalidKeyError, match="kid mismatch"):
        verify(parse(by_other, profile=forge.profile), forge.sender.signing.public)
    # ...and under the sender's kid: refused for the signature.
    forged = forge.sign(payload_b64=payload_b64, signer=outsider.signing)
    with pytest.raises(SignatureError, match="does not verify"):
        verify(parse(forged, profile=forge.profile), forge.sender.signing.public)


@FAST
@given(plaintext=st.binary(max_size=256))
def test_resigning_by_another_key_is_refused(
    profile: EnvelopeProfile,
    sender: KeySet,
    outsider: KeySet,
    pool: tuple[KeySet, ...],
    plaintext: bytes,
) -> None:
    raw = seal(
        profile=profile,
        app_header={},
        plaintext=plaintext,
        signer=sender.signing,
        recipients=[pool[0].decryption.public],
    )
    inner = b64u_decode(json.loads(raw)["payload"])
    resigned = jws.sign(inner, outsider.signing, typ=profile.jws_typ)
    unverified = parse(resigned, profile=profile)
    assert unverified.signer_kid == outsider.signing.kid
    with pytest.raises(InvalidKeyError, match="kid mismatch"):
        verify(unverified, sender.signing.public)
    # it does verify as the other key's envelope: the signature says who sent it, nothing else
    assert verify(unverified, outsider.signing.public).jwe.recipient_kids == (
        pool[0].decryption.kid,
    )


Target = tuple[dict[str, Any], list[str], Callable[[], bytes]]


def _outer(f: EnvelopeForge) -> Target:
    obj = f.outer()
    return obj, ["payload", "protected", "signature"], lambda: strictjson.dumps(obj)


def _jws_header(f: EnvelopeForge) -> Target:
    obj = f.jws_header()
    return obj, sorted(obj), lambda: f.with_jws_header(obj)


def _jwe(f: EnvelopeForge) -> Target:
    obj = f.jwe()
    return obj, sorted(obj), lambda: f.with_jwe(obj)


def _jwe_header(f: EnvelopeForge) -> Target:
    obj = f.jwe_header()
    return obj, sorted(obj), lambda: f.with_jwe_header(obj)


def _recipient(f: EnvelopeForge) -> Target:
    jwe_obj = f.jwe()
    obj = jwe_obj["recipients"][0]
    return obj, sorted(obj), lambda: f.with_jwe(jwe_obj)


def _recipient_header(f: EnvelopeForge) -> Target:
    jwe_obj = f.jwe()
    obj = jwe_obj["recipients"][0]["header"]
    return obj, sorted(obj), lambda: f.with_jwe(jwe_obj)


TARGETS = {
    "outer": _outer,
    "jws-header": _jws_header,
    "jwe": _jwe,
    "jwe-header": _jwe_header,
    "recipient": _recipient,
    "recipient-header": _recipient_header,
}


@FAST
@given(data=st.data(), value=JSON_VALUES)
def test_any_member_replaced_by_any_json_value_is_refused_with_a_crypto_error(
    forge: EnvelopeForge, data: st.DataObject, value: Any
) -> None:
    """Fail closed *with our error tree*: whatever value lands in whichever member (re-signed
    where the member is signed), the receiver raises a CryptoError and nothing else."""
    where = data.draw(st.sampled_from(sorted(TARGETS)), label="where")
    obj, names, rebuild = TARGETS[where](forge)
    name = data.draw(st.sampled_from(names), label="name")
    assume(obj[name] != value)
    obj[name] = value
    with pytest.raises(CryptoError):
        receive(rebuild(), forge.profile, forge.sender, forge.recipients[:1])


# --- base64url ----------------------------------------------------------------------------------


@B64
@given(data=st.binary(max_size=600))  # both encoders: the standard library's, then pybase64's
def test_b64u_round_trip(data: bytes) -> None:
    text = b64u_encode(data)
    assert "=" not in text
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert b64u_decode(text) == data
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64u_ascii(data) == text.encode("ascii")


@B64
@given(
    text=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= ", max_size=40
    )
)
def test_b64u_decodes_only_canonical_text(text: str) -> None:
    """Whatever decodes, encodes back to exactly the same text: one spelling per byte string."""
    try:
        data = b64u_decode(text)
    except EncodingError:
        return
    assert b64u_encode(data) == text


@B64
@given(data=st.binary(min_size=1, max_size=300))
def test_b64u_refuses_every_other_spelling(data: bytes) -> None:
    canonical = b64u_encode(data)
    spellings = {
        base64.urlsafe_b64encode(data).decode(),  # padded
        base64.b64encode(data).decode().rstrip("="),  # standard alphabet
        canonical + "=",
        " " + canonical,
    }
    if len(canonical) % 4:  # unused trailing bits exist: set the lowest one
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(canonical[-1])
        spellings.add(canonical[:-1] + alphabet[last | 1])
    for spelling in spellings - {canonical}:
        with pytest.raises(EncodingError):
            b64u_decode(spelling)


@B64
@given(text=st.text(max_size=40))
def test_b64u_decode_raises_only_encoding_errors(text: str) -> None:
    with contextlib.suppress(EncodingError):
        b64u_decode(text)


def _b64u_decode_by_round_trip(text: str) -> bytes | None:
    """The definition b64u_decode's C-level checks implement: unpadded base64url letters only,
    and the text is exactly what encoding the decoded bytes gives (None: refused)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if any(c not in letters for c in text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64u_encode(data) == text else None


@B64
@given(
    text=st.one_of(
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40
        ),
        st.text(alphabet="AQgw_-+/=\n é\x00", max_size=12),
        st.text(max_size=12),
    )
)
def test_b64u_decode_accepts_exactly_the_round_trip_spellings(text: str) -> None:
    try:
        decoded: bytes | None = b64u_decode(text)
    except EncodingError:
        decoded = None
    assert decoded == _b64u_decode_by_round_trip(text)


@B64
@given(
    data=st.binary(min_size=192, max_size=600),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from("AQgw_-+/=\n é\x00")), max_size=3
    ),
    suffix=st.sampled_from(["", "=", "==", "+", "/", " ", "A", "AA"]),
)
def test_long_text_takes_the_simd_path_and_the_same_verdicts(
    data: bytes, edits: list[tuple[int, str]], suffix: str
) -> None:
    """From 256 letters on, b64u_decode hands canonical-looking text to pybase64, whose alphabet
    is wider (it reads "+", "/" and padding): the verdicts must stay the definition's."""
    text = b64u_encode(data)
    for position, letter in edits:
        i = position % len(text)
        text = text[:i] + letter + text[i + 1 :]
    text += suffix
    assert len(text) >= 256
    try:
        decoded: bytes | None = b64u_decode(text)
    except EncodingError:
        decoded = None
    assert decoded == _b64u_decode_by_round_trip(text)


# --- strict JSON ----------------------------------------------------------------------------------


@MANY
@given(value=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5))
def test_strictjson_round_trip(value: dict[str, Any]) -> None:
    assert strictjson.loads(strictjson.dumps(value), max_bytes=1 << 20) == value


NESTED = st.recursive(
    st.integers(0, 9),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from("abc"), children, max_size=3),
    ),
    max_leaves=40,
)


@MANY
@given(value=st.dictionaries(st.sampled_from("xyz"), NESTED, max_size=3), limit=st.integers(1, 8))
def test_the_depth_walk_decides_as_the_full_walk(value: dict[str, Any], limit: int) -> None:
    """Without a ``\\u`` escape, strictjson walks only the containers (``_check_depth``): the same
    documents are refused, with the same error, as by the walk that also checks every string."""
    data = strictjson.dumps(value)
    assert b"\\u" not in data

    def verdict(walk: Callable[[Any, int, str], None]) -> str | None:
        try:
            walk(value, limit, "doc")
        except CryptoError as exc:
            return str(exc)
        return None

    def parsed(_: Any, depth: int, what: str) -> None:
        strictjson.loads(data, what=what, max_bytes=1 << 20, max_depth=depth)

    full = verdict(strictjson._check_tree)
    assert verdict(strictjson._check_depth) == full
    assert verdict(parsed) == full
