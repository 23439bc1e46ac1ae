"""PGS envelopes: the routing header must agree with the cryptography around it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pgs_hub.crypto import envelope as env
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import NotARecipientError, SignatureError
from pgs_hub.crypto.keys import KeySet
from pgs_hub.protocols.envelope import (
    PGS_PROFILE,
    open_message,
    read_header,
    seal_message,
    verify_message,
)
from pgs_hub.protocols.errors import MessageValidationError, RoutingError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message

NOW = 1_767_225_600
NG, GH, WCO, CM = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-PGS-BRUSSELS", "CM-NCP-DOUALA"
ALERT = {
    "subject": "Nitromethane in drums declared as solvent",
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
}


@pytest.fixture(scope="module")
def keys() -> dict[str, KeySet]:
    return {pid: KeySet.generate() for pid in (NG, GH, WCO, CM)}


def header(keys: dict[str, KeySet], **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "v": "pgs/1",
        "mid": "0b7e3a52-8f1d-4c2e-9a6b-5d4c3b2a1f0e",
        "from": {"id": NG, "kid": keys[NG].signing.kid},
        "to": [{"id": GH, "kid": keys[GH].decryption.kid}],
        "kind": "alert",
        "iat": NOW,
        "exp": NOW + 3600,
        "tlp": "AMBER",
    }
    return base | changes


def hand_sealed(keys: dict[str, KeySet], app_header: dict[str, Any], to: list[str]) -> bytes:
    """Seal bypassing seal_message's checks, as a hostile or buggy client would."""
    return env.seal(
        profile=PGS_PROFILE,
        app_header=app_header,
        plaintext=json.dumps(ALERT).encode(),
        signer=keys[NG].signing,
        recipients=[keys[p].decryption.public for p in to],
    )


def sealed(keys: dict[str, KeySet], to: tuple[str, ...] = (GH, WCO)) -> bytes:
    return seal_message(
        sender_id=NG,
        signer=keys[NG].signing,
        recipients=[(p, keys[p].decryption.public) for p in to],
        kind=MessageKind.ALERT,
        content=parse_message(MessageKind.ALERT, json.dumps(ALERT).encode()),
        tlp=Tlp.RED,
        now=NOW,
    ).raw


def test_round_trip_for_every_recipient(keys: dict[str, KeySet]) -> None:
    raw = sealed(keys)
    for pid in (GH, WCO):
        opened = open_message(
            verify_message(raw, keys[NG].signing.public), pid, keys[pid].decryption
        )
        assert opened.header.tlp is Tlp.RED
        assert opened.content == parse_message(MessageKind.ALERT, json.dumps(ALERT).encode())


def test_the_hub_reads_the_header_without_any_key(keys: dict[str, KeySet]) -> None:
    raw = sealed(keys)
    _, routing = read_header(raw)
    assert routing.sender.id == NG
    assert [a.id for a in routing.to] == [GH, WCO]
    assert ALERT["subject"].encode() not in raw


def test_a_non_recipient_cannot_open(keys: dict[str, KeySet]) -> None:
    verified = verify_message(sealed(keys), keys[NG].signing.public)
    with pytest.raises(NotARecipientError):
        open_message(verified, CM, keys[CM].decryption)


def test_a_recipient_key_used_under_another_participant_id_is_refused(
    keys: dict[str, KeySet],
) -> None:
    verified = verify_message(sealed(keys), keys[NG].signing.public)
    with pytest.raises(NotARecipientError, match=WCO):
        open_message(verified, WCO, keys[GH].decryption)


def test_verification_under_another_senders_key_fails(keys: dict[str, KeySet]) -> None:
    raw = sealed(keys)
    other = KeySet.generate()
    with pytest.raises(Exception, match="kid mismatch"):
        verify_message(raw, other.signing.public)
    forged = env.seal(
        profile=PGS_PROFILE,
        app_header=header(keys),
        plaintext=json.dumps(ALERT).encode(),
        signer=other.signing,
        recipients=[keys[GH].decryption.public],
    )
    with pytest.raises(Exception, match="kid mismatch"):
        verify_message(forged, keys[NG].signing.public)


def test_header_naming_another_signing_key_is_refused(keys: dict[str, KeySet]) -> None:
    impersonation = header(keys, **{"from": {"id": NG, "kid": keys[GH].signing.kid}})
    raw = hand_sealed(keys, impersonation, [GH])
    with pytest.raises(RoutingError) as caught:
        verify_message(raw, keys[NG].signing.public)
    assert caught.value.problems[0].pointer == "/pgs/from/kid"


@pytest.mark.parametrize(
    ("header_to", "jwe_to"),
    [
        pytest.param([GH, WCO], [GH], id="header-lists-more"),
        pytest.param([GH], [GH, CM], id="jwe-has-a-hidden-recipient"),
        pytest.param([WCO, GH], [GH, WCO], id="order-differs"),
    ],
)
def test_header_recipients_must_equal_the_jwe_recipients(
    keys: dict[str, KeySet], header_to: list[str], jwe_to: list[str]
) -> None:
    to = [{"id": p, "kid": keys[p].decryption.kid} for p in header_to]
    raw = hand_sealed(keys, header(keys, to=to), jwe_to)
    with pytest.raises(RoutingError) as caught:
        verify_message(raw, keys[NG].signing.public)
    assert caught.value.problems[0].pointer == "/pgs/to"


@pytest.mark.parametrize(
    ("changes", "pointer", "words"),
    [
        pytest.param({"v": "pgs/2"}, "/pgs/v", "pgs/1", id="version"),
        pytest.param({"mid": "not-a-uuid"}, "/pgs/mid", "UUID", id="message-id"),
        pytest.param({"kind": "gossip"}, "/pgs/kind", "alert", id="unknown-kind"),
        pytest.param({"kind": "receipt"}, "/pgs", "receipts", id="receipt-as-envelope"),
        pytest.param({"tlp": "WHITE"}, "/pgs/tlp", "AMBER", id="tlp-1.0-white"),
        pytest.param({"exp": NOW}, "/pgs", "later than iat", id="exp-not-after-iat"),
        pytest.param({"exp": NOW + 400 * 86400}, "/pgs", "longer", id="ttl-too-long"),
        pytest.param({"iat": "2026-01-01"}, "/pgs/iat", "whole number", id="iat-as-string"),
        pytest.param({"extra": 1}, "/pgs/extra", "not an allowed", id="unknown-member"),
        pytest.param({"to": []}, "/pgs/to", "at least 1", id="no-recipients"),
        pytest.param(
            {"from": {"id": "nigeria", "kid": "x"}}, "/pgs/from/id", "participant", id="bad-sender"
        ),
    ],
)  # fmt: skip
def test_invalid_headers_name_the_field(
    keys: dict[str, KeySet], changes: dict[str, Any], pointer: str, words: str
) -> None:
    raw = hand_sealed(keys, header(keys, **changes), [GH])
    with pytest.raises(RoutingError) as caught:
        read_header(raw)
    problems = caught.value.problems
    assert any(p.pointer == pointer and words in p.message for p in problems), problems


def test_duplicate_recipients_in_the_header_are_refused(keys: dict[str, KeySet]) -> None:
    twice = [
        {"id": GH, "kid": keys[GH].decryption.kid},
        {"id": GH, "kid": keys[WCO].decryption.kid},
    ]
    raw = hand_sealed(keys, header(keys, to=twice), [GH, WCO])
    with pytest.raises(RoutingError, match="more than once"):
        read_header(raw)


def test_content_of_another_kind_is_refused_after_decryption(keys: dict[str, KeySet]) -> None:
    raw = hand_sealed(keys, header(keys, kind="seizure"), [GH])
    verified = verify_message(raw, keys[NG].signing.public)
    with pytest.raises(MessageValidationError):
        open_message(verified, GH, keys[GH].decryption)


def test_redirecting_to_another_recipient_breaks_the_signature(keys: dict[str, KeySet]) -> None:
    """A hub that swaps a recipient entry (to read or misroute) is caught by every verifier."""
    raw = sealed(keys, to=(GH,))
    outer = json.loads(raw)
    inner = json.loads(b64u_decode(outer["payload"]))
    other = json.loads(b64u_decode(json.loads(sealed(keys, to=(CM,)))["payload"]))
    inner["recipients"] = other["recipients"]
    outer["payload"] = b64u_encode(json.dumps(inner, separators=(",", ":")).encode())
    with pytest.raises(SignatureError):
        verify_message(json.dumps(outer).encode(), keys[NG].signing.public)


def test_a_reply_must_name_the_same_message_in_header_and_content(keys: dict[str, KeySet]) -> None:
    answered = "1c9f0e4d-2b3a-4c5d-8e6f-7a8b9c0d1e2f"
    reply = parse_message(
        MessageKind.REPLY,
        json.dumps(
            {"in_reply_to": {"mid": answered}, "subject": "Re: drums", "answer": "Inspected: nil."}
        ).encode(),
    )
    common: dict[str, Any] = {
        "sender_id": GH,
        "signer": keys[GH].signing,
        "recipients": [(NG, keys[NG].decryption.public)],
        "kind": MessageKind.REPLY,
        "content": reply,
        "tlp": Tlp.AMBER,
        "now": NOW,
    }
    sealed_reply = seal_message(**common, in_reply_to=answered)
    verified = verify_message(sealed_reply.raw, keys[GH].signing.public)
    assert open_message(verified, NG, keys[NG].decryption).header.irt == answered
    with pytest.raises(RoutingError, match="irt"):
        seal_message(**common)
    # A hostile sender bypassing seal_message: the recipient refuses it on opening.
    forged = env.seal(
        profile=PGS_PROFILE,
        app_header=header(keys, kind="reply", **{"from": {"id": GH, "kid": keys[GH].signing.kid}},
                          to=[{"id": NG, "kid": keys[NG].decryption.kid}]),
        plaintext=json.dumps(reply.model_dump(mode="json", exclude_none=True)).encode(),
        signer=keys[GH].signing,
        recipients=[keys[NG].decryption.public],
    )  # fmt: skip
    with pytest.raises(RoutingError, match="irt"):
        open_message(verify_message(forged, keys[GH].signing.public), NG, keys[NG].decryption)
