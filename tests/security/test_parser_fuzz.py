"""Hypothesis over the parsers that read untrusted bytes: the envelope parser (``crypto.envelope.
parse`` and ``protocols.envelope.read_header``) and the message parser (``parse_message``). Whatever
the input, only the documented error classes escape: :class:`~crypto.errors.CryptoError` from the
envelope layer, :class:`~protocols.errors.ProtocolError` from the protocol layer.

The ≥ 10,000 random single-byte mutations of a real envelope are in test_mutations.py."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.envelope import parse
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.protocols.envelope import PGS_PROFILE, read_header
from pgs_hub.protocols.errors import ProtocolError
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from tests.security import figures

EXAMPLES = figures.repeat(300, 3000)
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
# Envelope-shaped JSON: the right member names with arbitrary values.
ENVELOPE_KEYS = st.sampled_from(
    ["payload", "signatures", "protected", "header", "signature", "recipients", "iv",
     "ciphertext", "tag", "encrypted_key", "aad", "unprotected", "kid", "alg", "typ", "cty"]
)  # fmt: skip
ENVELOPE_LIKE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(ENVELOPE_KEYS, inner, max_size=6)
    ),
    max_leaves=25,
)
INPUT_BYTES = st.one_of(
    st.binary(max_size=2048),
    JSON.map(lambda v: json.dumps(v).encode()),
    ENVELOPE_LIKE.map(lambda v: json.dumps(v).encode()),
)


def _envelope_layers(raw: bytes) -> None:
    with contextlib.suppress(CryptoError):
        parse(raw, profile=PGS_PROFILE)
    with contextlib.suppress(CryptoError, ProtocolError):
        read_header(raw)


@FUZZ
@given(raw=INPUT_BYTES)
def test_envelope_parsers_raise_only_documented_errors(raw: bytes) -> None:
    _envelope_layers(raw)
    figures.record("parser fuzzing: envelope", tried=1)


@FUZZ
@given(kind=st.sampled_from([*MessageKind, "bogus"]), data=st.one_of(INPUT_BYTES, JSON))
def test_message_parser_raises_only_documented_errors(kind: Any, data: Any) -> None:
    if not isinstance(data, bytes) and not isinstance(data, dict):
        data = {"value": data}
    with contextlib.suppress(ProtocolError):
        parse_message(kind, data)
    figures.record("parser fuzzing: messages", tried=1)
