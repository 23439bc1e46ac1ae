"""Signed receipts: a recipient's statement that it received (``delivered``) or opened (``read``)
one exact envelope.

A receipt is not encrypted — the hub records delivery state from it and forwards it to the sender —
but it is signed (JWS flattened JSON, EdDSA, ``typ`` ``pgs-receipt+jose``) by the recipient, so the
hub cannot forge one. It names the envelope by the SHA-256 of its exact bytes, so a receipt for one
envelope can never be passed off as a receipt for another with the same message id.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from pgs_hub.crypto import jws
from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.envelope import envelope_digest
from pgs_hub.crypto.keys import SigningKey, VerifyKey
from pgs_hub.protocols.errors import FieldProblem, RoutingError
from pgs_hub.protocols.messages.kinds import PROTOCOL, MessageKind
from pgs_hub.protocols.messages.receipt import Receipt, ReceiptStatus
from pgs_hub.protocols.messages.registry import encode_message, parse_message

RECEIPT_TYP = "pgs-receipt+jose"
MAX_RECEIPT_BYTES = 4096


def make_receipt(
    *, envelope: bytes, mid: str, status: ReceiptStatus, by: str, at: datetime
) -> Receipt:
    """The receipt body for ``envelope`` (exact bytes as received)."""
    return Receipt.model_validate(
        {
            "v": PROTOCOL,
            "mid": mid,
            "envelope_sha256": b64u_encode(envelope_digest(envelope)),
            "status": status,
            "at": at,
            "by": by,
        }
    )


def sign_receipt(receipt: Receipt, signer: SigningKey) -> bytes:
    """Sign ``receipt`` as its author; returns the JWS JSON bytes."""
    return jws.sign(encode_message(receipt), signer, typ=RECEIPT_TYP)


def read_receipt(raw: bytes) -> tuple[jws.UnverifiedJws, Receipt]:
    """Parse a signed receipt. **Unauthenticated**: use ``by`` and the ``kid`` to find the key."""
    signed = jws.parse(raw, typ=RECEIPT_TYP, what="receipt", max_bytes=MAX_RECEIPT_BYTES)
    receipt = parse_message(MessageKind.RECEIPT, signed.payload)
    assert isinstance(receipt, Receipt)  # noqa: S101 - the registry maps RECEIPT to Receipt
    return signed, receipt


def verify_receipt(raw: bytes, author: VerifyKey, *, envelope: bytes | None = None) -> Receipt:
    """Verify the author's signature; with ``envelope``, also that the receipt is for it."""
    signed, receipt = read_receipt(raw)
    jws.verify(signed, author)
    if envelope is not None:
        expected = b64u_encode(envelope_digest(envelope))
        if not hmac.compare_digest(expected, receipt.envelope_sha256):
            raise RoutingError(
                [FieldProblem("/envelope_sha256", "does not name this envelope's exact bytes")]
            )
    return receipt
