"""Encrypted attachments in the content and upload ids in the routing header must agree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pgs_hub.crypto import chunked
from pgs_hub.crypto import envelope as env
from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.keys import KeySet
from pgs_hub.protocols.envelope import PGS_PROFILE, open_message, seal_message, verify_message
from pgs_hub.protocols.errors import MessageValidationError, RoutingError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from pgs_hub.protocols.routing import RoutingHeader

NOW = 1_767_225_600
NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
UPLOAD, OTHER = "AbCdEfGhIjKlMnOpQrStUv", "0123456789abcdefghij_-"


def described(
    upload: str = UPLOAD, size: int = 1000, blob_size: int | None = None
) -> dict[str, Any]:
    return {
        "name": "seal.jpg",
        "media_type": "image/jpeg",
        "size": size,
        "sha256": "a" * 64,
        "blob": {
            "upload": upload,
            "scheme": "pgs-chunked-v1",
            "key": b64u_encode(bytes(range(32))),
            "size": chunked.ciphertext_size(size) if blob_size is None else blob_size,
            "sha256": "b" * 64,
        },
    }


def alert(*attachments: dict[str, Any]) -> dict[str, Any]:
    return {
        "subject": "Seal photo",
        "lines": [
            {
                "commodity": "NME",
                "description": "Nitromethane, 10 drums of 200 l",
                "quantity": {"value": 2000, "unit": "LTR"},
            }
        ],
        "shipment": {
            "mode": "road",
            "route": {"origin": {"country": "NG"}, "destination": {"country": "CM"}},
        },
        "action_requested": "hold",
        "attachments": list(attachments),
    }


@pytest.fixture(scope="module")
def keys() -> dict[str, KeySet]:
    return {pid: KeySet.generate() for pid in (NG, GH)}


def seal(keys: dict[str, KeySet], content: dict[str, Any], att: tuple[str, ...]) -> bytes:
    return seal_message(
        sender_id=NG,
        signer=keys[NG].signing,
        recipients=[(GH, keys[GH].decryption.public)],
        kind=MessageKind.ALERT,
        content=parse_message(MessageKind.ALERT, json.dumps(content).encode()),
        tlp=Tlp.AMBER,
        now=NOW,
        attachments=att,
    ).raw


def test_round_trip_carries_the_key_to_the_recipient(keys: dict[str, KeySet]) -> None:
    raw = seal(keys, alert(described()), (UPLOAD,))
    verified = verify_message(raw, keys[NG].signing.public)
    assert verified.header.att == (UPLOAD,)
    opened = open_message(verified, GH, keys[GH].decryption)
    blob = opened.content.attachments[0].blob  # type: ignore[attr-defined]
    assert blob.key == b64u_encode(bytes(range(32)))


def test_a_description_without_blob_is_still_valid(keys: dict[str, KeySet]) -> None:
    """Backward compatible: pgs/1 messages that only describe a file still open."""
    plain = {k: v for k, v in described().items() if k != "blob"}
    raw = seal(keys, alert(plain), ())
    opened = open_message(verify_message(raw, keys[NG].signing.public), GH, keys[GH].decryption)
    assert opened.header.att is None


@pytest.mark.parametrize(
    ("content_uploads", "header_uploads"),
    [((UPLOAD,), ()), ((), (UPLOAD,)), ((UPLOAD,), (OTHER,)), ((UPLOAD,), (UPLOAD, OTHER))],
    ids=["header omits", "header adds", "header differs", "header has one more"],
)
def test_header_and_content_must_name_the_same_uploads(
    keys: dict[str, KeySet], content_uploads: tuple[str, ...], header_uploads: tuple[str, ...]
) -> None:
    content = alert(*(described(u) for u in content_uploads))
    with pytest.raises(RoutingError, match="att"):
        seal(keys, content, header_uploads)
    # A hostile sender bypassing seal_message: the recipient refuses it on opening.
    app_header = {
        "v": "pgs/1", "mid": "0b7e3a52-8f1d-4c2e-9a6b-5d4c3b2a1f0e",
        "from": {"id": NG, "kid": keys[NG].signing.kid},
        "to": [{"id": GH, "kid": keys[GH].decryption.kid}],
        "kind": "alert", "iat": NOW, "exp": NOW + 3600, "tlp": "AMBER",
    }  # fmt: skip
    if header_uploads:
        app_header["att"] = list(header_uploads)
    forged = env.seal(
        profile=PGS_PROFILE,
        app_header=app_header,
        plaintext=json.dumps(content).encode(),
        signer=keys[NG].signing,
        recipients=[keys[GH].decryption.public],
    )
    with pytest.raises(RoutingError, match="att"):
        open_message(verify_message(forged, keys[NG].signing.public), GH, keys[GH].decryption)


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"blob_size": 1000}, "/attachments/0"),
        ({"upload": "short"}, "/attachments/0/blob/upload"),
    ],
    ids=["blob size not the ciphertext size", "upload id malformed"],
)
def test_bad_blob_descriptions_are_refused(change: dict[str, Any], pointer: str) -> None:
    content = alert(described(**change))
    with pytest.raises(MessageValidationError) as caught:
        parse_message(MessageKind.ALERT, json.dumps(content).encode())
    assert any(p.pointer.startswith(pointer) for p in caught.value.problems)


@pytest.mark.parametrize("key", ["A" * 42, "A" * 44, "A" * 42 + "B", "A" * 42 + "+"])
def test_a_malformed_file_key_is_refused(key: str) -> None:
    content = alert(described())
    content["attachments"][0]["blob"]["key"] = key
    with pytest.raises(MessageValidationError, match="32-byte key"):
        parse_message(MessageKind.ALERT, json.dumps(content).encode())


def test_the_header_refuses_a_repeated_upload() -> None:
    with pytest.raises(RoutingError, match="more than once"):
        RoutingHeader.from_wire(
            {
                "v": "pgs/1",
                "mid": "0b7e3a52-8f1d-4c2e-9a6b-5d4c3b2a1f0e",
                "from": {"id": NG, "kid": "A" * 43},
                "to": [{"id": GH, "kid": "B" * 43}],
                "kind": "alert",
                "iat": NOW,
                "exp": NOW + 3600,
                "tlp": "AMBER",
                "att": [UPLOAD, UPLOAD],
            }
        )
