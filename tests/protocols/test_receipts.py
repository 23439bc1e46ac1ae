"""Signed receipts: only the recipient can make one, and only for the exact envelope."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import InvalidKeyError, SignatureError, UnsupportedAlgorithmError
from pgs_hub.crypto.jws import sign
from pgs_hub.crypto.keys import KeySet
from pgs_hub.protocols.errors import MessageValidationError, RoutingError
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, read_receipt, sign_receipt, verify_receipt

MID = "0b7e3a52-8f1d-4c2e-9a6b-5d4c3b2a1f0e"
AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ENVELOPE = b'{"payload":"x","protected":"y","signature":"z"}'


@pytest.fixture(scope="module")
def ghana() -> KeySet:
    return KeySet.generate()


def signed(ghana: KeySet, status: ReceiptStatus = ReceiptStatus.READ) -> bytes:
    body = make_receipt(envelope=ENVELOPE, mid=MID, status=status, by="GH-NCP-ACCRA", at=AT)
    return sign_receipt(body, ghana.signing)


def test_round_trip(ghana: KeySet) -> None:
    receipt = verify_receipt(signed(ghana), ghana.signing.public, envelope=ENVELOPE)
    assert receipt.status is ReceiptStatus.READ
    assert receipt.by == "GH-NCP-ACCRA"
    _, unverified = read_receipt(signed(ghana))
    assert unverified == receipt


def test_a_receipt_for_other_bytes_is_refused(ghana: KeySet) -> None:
    with pytest.raises(RoutingError, match="envelope_sha256"):
        verify_receipt(signed(ghana), ghana.signing.public, envelope=ENVELOPE + b" ")


def test_the_hub_cannot_forge_or_alter_a_receipt(ghana: KeySet) -> None:
    hub = KeySet.generate()
    with pytest.raises(InvalidKeyError):
        verify_receipt(signed(ghana), hub.signing.public)
    forged = sign_receipt(
        make_receipt(
            envelope=ENVELOPE, mid=MID, status=ReceiptStatus.READ, by="GH-NCP-ACCRA", at=AT
        ),
        hub.signing,
    )
    with pytest.raises(InvalidKeyError):
        verify_receipt(forged, ghana.signing.public)
    outer = json.loads(signed(ghana, ReceiptStatus.DELIVERED))
    body = json.loads(b64u_decode(outer["payload"]))
    body["status"] = "read"
    outer["payload"] = b64u_encode(json.dumps(body).encode())
    with pytest.raises(SignatureError):
        verify_receipt(json.dumps(outer).encode(), ghana.signing.public)


def test_an_envelope_signature_is_not_a_receipt(ghana: KeySet) -> None:
    """Explicit typing: a JWS made for another purpose cannot be replayed as a receipt."""
    other = sign(b"{}", ghana.signing, typ="pgs-envelope+jose")
    with pytest.raises(UnsupportedAlgorithmError, match="typ"):
        read_receipt(other)


def test_an_invalid_body_names_the_field(ghana: KeySet) -> None:
    raw = sign(
        json.dumps({"v": "pgs/1", "mid": MID}).encode(), ghana.signing, typ="pgs-receipt+jose"
    )
    with pytest.raises(MessageValidationError) as caught:
        read_receipt(raw)
    assert {p.pointer for p in caught.value.problems} >= {"/status", "/by", "/envelope_sha256"}
