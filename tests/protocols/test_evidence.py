"""Evidence bundles: built here over a real Merkle log (crypto.merkle.InMemoryTree) and a real
signed checkpoint, then verified with only the pinned authority and log keys. Every part is
tampered with in turn, and each fails with its own error."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.disclosure import ContentKeyDisclosure
from pgs_hub.crypto.keys import KeySet, SigningKey
from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, sign_checkpoint
from pgs_hub.protocols.certificates import issue_certificate, make_certificate
from pgs_hub.protocols.envelope import SealedMessage, open_message, seal_message, verify_message
from pgs_hub.protocols.evidence import (
    DisclosureEvidence,
    EvidenceBundle,
    EvidenceCertificateError,
    EvidenceCheckpointError,
    EvidenceDisclosureError,
    EvidenceEntryError,
    EvidenceError,
    EvidenceInclusionError,
    EvidenceMalformedError,
    EvidenceReceiptError,
    EvidenceSignatureError,
    LogProof,
    ReceiptEvidence,
    decode_bundle,
    encode_bundle,
    strongest_status,
    verify_bundle,
)
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.messages.registry import parse_message
from pgs_hub.protocols.receipts import make_receipt, sign_receipt

NOW = 1_767_225_600
ORIGIN = "pgs-hub.example/log"
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


def entry(index: int, event: str, actor: str | None, subject: str, **details: Any) -> bytes:
    """A pgs-log/1 entry as the hub writes it (compact JSON, keys sorted)."""
    doc = {
        "v": 1, "index": index, "at": NOW + index, "event": event, "actor": actor,
        "subject": subject, "countries": [], "details": details,
    }  # fmt: skip
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def digest(data: bytes) -> str:
    return b64u_encode(hashlib.sha256(data).digest())


@dataclass
class World:
    authority: SigningKey
    log_key: SigningKey
    keys: dict[str, KeySet]
    certs: dict[str, bytes]
    sealed: SealedMessage
    receipts: dict[tuple[str, str], bytes]
    content_key: bytes

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.for_key(ORIGIN, self.log_key.public)

    @property
    def mid(self) -> str:
        return self.sealed.header.mid

    def accepted_entry(self, index: int, envelope: bytes | None = None, **changes: Any) -> bytes:
        raw = self.sealed.raw if envelope is None else envelope
        details: dict[str, Any] = {
            "mid": self.mid, "sender": NG, "recipients": [GH, WCO], "kind": "alert",
            "tlp": "AMBER", "group": None, "size": len(raw), "sha256": digest(raw),
        }  # fmt: skip
        return entry(index, "envelope.accepted", NG, self.mid, **(details | changes))

    def receipt_entry(self, index: int, by: str, status: str, raw: bytes | None = None) -> bytes:
        raw = self.receipts[(by, status)] if raw is None else raw
        return entry(
            index, "receipt.recorded", by, self.mid,
            mid=self.mid, status=status, receipt_sha256=digest(raw),
        )  # fmt: skip

    def key_entry(self, index: int, who: str = NG) -> bytes:
        return entry(
            index, "participant.enrolled", "WCO-HUB-ADMIN", who, role="ncp",
            sig_kid=self.keys[who].signing.kid, enc_kid=self.keys[who].decryption.kid,
            certificate_sha256=digest(self.certs[who]),
        )  # fmt: skip

    def standard_log(self) -> list[bytes]:
        return [
            self.key_entry(0, NG),
            self.key_entry(1, GH),
            self.key_entry(2, WCO),
            entry(3, "access.denied", CM, self.mid, action="fetch", reason="not_addressed"),
            self.accepted_entry(4),
            self.receipt_entry(5, GH, "delivered"),
            entry(6, "policy.reloaded", None, "policy.toml", sha256=digest(b"policy")),
            self.receipt_entry(7, GH, "read"),
            self.receipt_entry(8, WCO, "delivered"),
        ]


def certificate(authority: SigningKey, who: str, keys: KeySet, role: str = "ncp") -> bytes:
    body = make_certificate(
        sub=who, role=role, verify_key=keys.signing.public,
        recipient_key=keys.decryption.public, iat=NOW,
    )  # fmt: skip
    return issue_certificate(body, authority)


def receipt(world_keys: dict[str, KeySet], raw: bytes, mid: str, by: str, status: str) -> bytes:
    body = make_receipt(
        envelope=raw, mid=mid, status=ReceiptStatus(status), by=by,
        at=datetime.fromtimestamp(NOW + 10, UTC),
    )  # fmt: skip
    return sign_receipt(body, world_keys[by].signing)


@pytest.fixture(scope="module")
def world() -> World:
    authority = SigningKey.generate()
    keys = {pid: KeySet.generate() for pid in (NG, GH, WCO, CM)}
    certs = {
        pid: certificate(authority, pid, k, role="wco" if pid == WCO else "ncp")
        for pid, k in keys.items()
    }
    sealed = seal_message(
        sender_id=NG, signer=keys[NG].signing,
        recipients=[(GH, keys[GH].decryption.public), (WCO, keys[WCO].decryption.public)],
        kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, ALERT), tlp=Tlp.AMBER,
        now=NOW,
    )  # fmt: skip
    receipts = {
        (by, status): receipt(keys, sealed.raw, sealed.header.mid, by, status)
        for by, status in ((GH, "delivered"), (GH, "read"), (WCO, "delivered"))
    }
    opened = open_message(
        verify_message(sealed.raw, keys[NG].signing.public), GH, keys[GH].decryption
    )
    return World(
        authority, SigningKey.generate(), keys, certs, sealed, receipts, opened.content_key
    )


def signed_log(
    world: World, entries: list[bytes], *, origin: str = ORIGIN, key: SigningKey | None = None
) -> tuple[InMemoryTree, bytes]:
    tree = InMemoryTree(leaf_hash(e) for e in entries)
    note = sign_checkpoint(Checkpoint(origin, tree.size, tree.root()), origin, key or world.log_key)
    return tree, note


def proof(tree: InMemoryTree, entries: list[bytes], index: int) -> LogProof:
    return LogProof(index, entries[index], tuple(tree.inclusion_proof(index)))


def build(
    world: World,
    entries: list[bytes] | None = None,
    *,
    envelope: bytes | None = None,
    disclose: bool = True,
    receipts: tuple[tuple[str, str, int], ...] = (
        (GH, "delivered", 5),
        (GH, "read", 7),
        (WCO, "delivered", 8),
    ),
    accepted_index: int = 4,
    key_index: int | None = 0,
    **fields: Any,
) -> EvidenceBundle:
    """A bundle over ``entries`` (default: the standard log), every proof in one checkpoint."""
    entries = world.standard_log() if entries is None else entries
    tree, note = signed_log(world, entries)
    raw = world.sealed.raw if envelope is None else envelope
    bundle = EvidenceBundle(
        envelope=raw,
        sender_certificate=world.certs[NG],
        checkpoint=note,
        accepted=proof(tree, entries, accepted_index),
        sender_key=None if key_index is None else proof(tree, entries, key_index),
        receipts=tuple(
            ReceiptEvidence(world.receipts[(by, status)], world.certs[by], proof(tree, entries, i))
            for by, status, i in receipts
        ),
        disclosure=(
            DisclosureEvidence(
                GH, world.certs[GH], ContentKeyDisclosure(hashlib.sha256(raw).digest(),
                                                          world.content_key)
            )
            if disclose
            else None
        ),
    )  # fmt: skip
    return replace(bundle, **fields)


def check(world: World, data: bytes, **keys: Any) -> Any:
    return verify_bundle(
        data,
        authority=keys.get("authority", world.authority.public),
        log_verifier=keys.get("log_verifier", world.verifier),
    )


# --- what a good bundle proves ---------------------------------------------------------------


def test_a_complete_bundle_verifies_and_reports_what_it_proves(world: World) -> None:
    report = check(world, encode_bundle(build(world)))
    assert report.mid == world.mid
    assert (report.sender, report.recipients) == (NG, (GH, WCO))
    assert report.kind is MessageKind.ALERT
    assert report.tlp is Tlp.AMBER
    assert report.envelope_sha256 == hashlib.sha256(world.sealed.raw).digest()
    assert (report.log_index, report.accepted_at) == (4, NOW + 4)
    assert (report.checkpoint.origin, report.checkpoint.size) == (ORIGIN, 9)
    assert report.sender_key_index == 0
    assert [(r.by, r.status.value, r.log_index) for r in report.receipts] == [
        (GH, "delivered", 5), (GH, "read", 7), (WCO, "delivered", 8),
    ]  # fmt: skip
    assert strongest_status(report.receipts, GH) is ReceiptStatus.READ
    assert strongest_status(report.receipts, WCO) is ReceiptStatus.DELIVERED
    assert report.content == parse_message(MessageKind.ALERT, ALERT)
    assert report.disclosed_by == GH
    assert "Nitromethane" not in repr(report)


def test_a_minimal_bundle_proves_acceptance_only(world: World) -> None:
    bundle = build(world, disclose=False, receipts=(), key_index=None)
    report = check(world, encode_bundle(bundle))
    assert report.receipts == ()
    assert report.content is None
    assert report.sender_key_index is None
    assert strongest_status(report.receipts, GH) is None


def test_encoding_round_trips(world: World) -> None:
    bundle = build(world)
    data = encode_bundle(bundle)
    assert decode_bundle(data) == bundle
    doc = json.loads(data)
    assert (doc["v"], doc["type"]) == (1, "pgs-evidence")
    assert b64u_decode(doc["envelope"]) == world.sealed.raw
    assert doc["checkpoint"].startswith(f"{ORIGIN}\n9\n")


# --- tampering: every part, each with its own error ------------------------------------------


def edited(world: World, change: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(encode_bundle(build(world)))
    change(doc)
    return json.dumps(doc).encode()


def flip(text: str, at: int = 0) -> str:
    """base64url of the same bytes with one bit changed."""
    raw = bytearray(b64u_decode(text))
    raw[at] ^= 1
    return b64u_encode(bytes(raw))


def set_in(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value(target[int(last)]) if callable(value) else value
        else:
            target[last] = value(target[last]) if callable(value) else value

    return change


JSON_CASES: list[tuple[str, Callable[[dict[str, Any]], None], type[EvidenceError], str]] = [
    ("version", set_in("v", 2), EvidenceMalformedError, "bundle"),
    ("type", set_in("type", "other"), EvidenceMalformedError, "bundle"),
    ("unknown member", set_in("extra", 1), EvidenceMalformedError, "bundle"),
    ("envelope not base64url", set_in("envelope", "a+b"), EvidenceMalformedError, "envelope"),
    ("proof hash not 32 bytes", set_in("accepted.proof.0", "AAAA"), EvidenceMalformedError,
     "accepted.proof"),
    ("checkpoint text altered", set_in("checkpoint", lambda t: t.replace("\n9\n", "\n8\n")),
     EvidenceCheckpointError, "checkpoint"),
    ("checkpoint signature altered",
     set_in("checkpoint", lambda t: t[:-6] + ("A" if t[-6] != "A" else "B") + t[-5:]),
     EvidenceCheckpointError, "checkpoint"),
    ("accepted proof hash", set_in("accepted.proof.0", flip), EvidenceInclusionError, "accepted"),
    ("accepted proof shortened", set_in("accepted.proof", lambda p: p[:-1]),
     EvidenceInclusionError, "accepted"),
    ("accepted index", set_in("accepted.index", 3), EvidenceInclusionError, "accepted"),
    ("accepted index past the tree", set_in("accepted.index", 9), EvidenceInclusionError,
     "accepted"),
    ("accepted entry bytes", set_in("accepted.entry", lambda e: flip(e, 40)),
     EvidenceInclusionError, "accepted"),
    ("envelope bytes", set_in("envelope", lambda e: flip(e, len(b64u_decode(e)) - 3)),
     EvidenceMalformedError, "envelope"),
    ("sender certificate is another participant's", lambda d: d.update(
        sender_certificate=d["receipts"][0]["certificate"]), EvidenceCertificateError,
     "sender_certificate"),
    ("sender certificate altered", set_in("sender_certificate", lambda c: flip(c, 30)),
     EvidenceCertificateError, "sender_certificate"),
    ("sender key entry is another's", lambda d: d.update(
        sender_key=d["receipts"][0]["log"]), EvidenceEntryError, "sender_key"),
    ("sender key proof", set_in("sender_key.proof.1", flip), EvidenceInclusionError,
     "sender_key"),
    ("receipt altered", set_in("receipts.1.receipt", lambda r: flip(r, 60)),
     EvidenceReceiptError, "receipts[1]"),
    ("receipt certificate not a certificate", set_in("receipts.0.certificate",
     lambda c: b64u_encode(b"x")), EvidenceCertificateError, "receipts[0].certificate"),
    ("receipt certificate of another recipient", lambda d: d["receipts"][0].update(
        certificate=d["receipts"][2]["certificate"]), EvidenceCertificateError,
     "receipts[0].certificate"),
    ("receipt proof", set_in("receipts.2.log.proof.0", flip), EvidenceInclusionError,
     "receipts[2].log"),
    ("receipt entry of another receipt", lambda d: d["receipts"][0].update(
        log=d["receipts"][1]["log"]), EvidenceEntryError, "receipts[0].log"),
    ("receipt repeated", lambda d: d["receipts"].append(d["receipts"][0]),
     EvidenceMalformedError, "receipts[3]"),
    ("receipt logged as the acceptance", lambda d: d.update(accepted=d["receipts"][0]["log"]),
     EvidenceEntryError, "accepted"),
    ("disclosed key", set_in("disclosure.key.cek", flip), EvidenceDisclosureError, "disclosure"),
    ("disclosure names another envelope", set_in("disclosure.key.envelope_sha256", flip),
     EvidenceDisclosureError, "disclosure"),
    ("disclosure by a non-recipient", set_in("disclosure.by", CM), EvidenceDisclosureError,
     "disclosure"),
    ("disclosure certificate of another recipient",
     lambda d: d["disclosure"].update(certificate=d["receipts"][2]["certificate"]),
     EvidenceCertificateError, "disclosure.certificate"),
    ("disclosure key not 32 bytes", set_in("disclosure.key.cek", "AAAA"),
     EvidenceMalformedError, "disclosure.key"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error", "part"),
    [pytest.param(c, e, p, id=name) for name, c, e, p in JSON_CASES],
)
def test_tampering_with_a_part_fails_with_its_error(
    world: World, change: Callable[[dict[str, Any]], None], error: type[EvidenceError], part: str
) -> None:
    with pytest.raises(error) as caught:
        check(world, edited(world, change))
    assert type(caught.value) is error
    assert caught.value.part == part
    assert caught.value.code.startswith("evidence.")


@pytest.mark.parametrize(
    "data",
    [b"", b"[]", b"{", b'{"v":1,"v":1}', b"\xef\xbb\xbf{}", b'{"v":1}'],
    ids=["empty", "array", "truncated", "duplicate member", "bom", "missing members"],
)
def test_what_is_not_a_bundle_is_malformed(world: World, data: bytes) -> None:
    with pytest.raises(EvidenceMalformedError):
        check(world, data)


def test_another_log_key_or_origin_is_refused(world: World) -> None:
    data = encode_bundle(build(world))
    other = NoteVerifier.for_key(ORIGIN, SigningKey.generate().public)
    with pytest.raises(EvidenceCheckpointError, match="not signed by the pinned log key"):
        check(world, data, log_verifier=other)
    entries = world.standard_log()
    _, note = signed_log(world, entries, origin="another-log")
    foreign = replace(build(world), checkpoint=note)
    with pytest.raises(EvidenceCheckpointError):
        check(world, encode_bundle(foreign))


def test_another_authority_is_refused(world: World) -> None:
    with pytest.raises(EvidenceCertificateError, match="sender_certificate"):
        check(world, encode_bundle(build(world)), authority=SigningKey.generate().public)


def test_a_checkpoint_of_another_tree_breaks_every_proof(world: World) -> None:
    entries = [*world.standard_log(), entry(9, "policy.reloaded", None, "p", sha256="x")]
    _, note = signed_log(world, entries)
    with pytest.raises(EvidenceInclusionError, match="accepted"):
        check(world, encode_bundle(replace(build(world), checkpoint=note)))


def test_an_envelope_the_log_does_not_name_is_refused(world: World) -> None:
    """Another envelope (same sender, same message id, other bytes) with the logged entry."""
    other = seal_message(
        sender_id=NG, signer=world.keys[NG].signing,
        recipients=[(GH, world.keys[GH].decryption.public),
                    (WCO, world.keys[WCO].decryption.public)],
        kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, ALERT), tlp=Tlp.AMBER,
        now=NOW, message_id=world.mid,
    )  # fmt: skip
    bundle = replace(build(world, disclose=False, receipts=()), envelope=other.raw)
    with pytest.raises(EvidenceEntryError, match="SHA-256"):
        check(world, encode_bundle(bundle))


@pytest.mark.parametrize(
    ("changes", "member"),
    [
        ({"recipients": [GH]}, "recipients"),
        ({"sender": CM}, "sender"),
        ({"kind": "seizure"}, "kind"),
        ({"tlp": "RED"}, "tlp"),
        ({"size": 1}, "size"),
    ],
    ids=["recipients", "sender", "kind", "tlp", "size"],
)
def test_a_logged_entry_that_describes_the_envelope_wrongly_is_refused(
    world: World, changes: dict[str, Any], member: str
) -> None:
    """The hub logged (and signed) an entry that does not match the envelope it accepted."""
    entries = world.standard_log()
    entries[4] = world.accepted_entry(4, **changes)
    with pytest.raises(EvidenceEntryError, match=member):
        check(world, encode_bundle(build(world, entries)))


def test_an_entry_that_claims_another_index_is_refused(world: World) -> None:
    entries = world.standard_log()
    entries[4] = world.accepted_entry(5)  # the right entry, moved
    with pytest.raises(EvidenceEntryError, match="another index"):
        check(world, encode_bundle(build(world, entries)))


def test_an_envelope_signature_that_does_not_verify_is_refused(world: World) -> None:
    """The log names these exact (altered) bytes, the certificate is right, the signature is not."""
    outer = json.loads(world.sealed.raw)
    outer["signature"] = flip(outer["signature"], 5)
    forged = json.dumps(outer, separators=(",", ":")).encode()
    entries = world.standard_log()
    entries[4] = world.accepted_entry(4, envelope=forged)
    bundle = build(world, entries, envelope=forged, disclose=False, receipts=())
    with pytest.raises(EvidenceSignatureError, match="envelope"):
        check(world, encode_bundle(bundle))


def test_a_certificate_for_another_key_of_the_sender_is_refused(world: World) -> None:
    rotated = certificate(world.authority, NG, KeySet.generate())
    bundle = replace(build(world, key_index=None), sender_certificate=rotated)
    with pytest.raises(EvidenceCertificateError, match="key the envelope names"):
        check(world, encode_bundle(bundle))


def test_a_sender_key_logged_after_the_message_is_refused(world: World) -> None:
    entries = world.standard_log()
    entries.append(world.key_entry(9, NG))
    with pytest.raises(EvidenceEntryError, match="after the message"):
        check(world, encode_bundle(build(world, entries, key_index=9)))


def test_a_sender_key_entry_for_another_certificate_is_refused(world: World) -> None:
    entries = world.standard_log()
    doc = json.loads(entries[0])
    doc["details"]["certificate_sha256"] = digest(b"another certificate")
    entries[0] = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    with pytest.raises(EvidenceEntryError, match="another certificate"):
        check(world, encode_bundle(build(world, entries)))


def test_a_receipt_by_someone_not_addressed_is_refused(world: World) -> None:
    stranger = receipt(world.keys, world.sealed.raw, world.mid, CM, "read")
    entries = [*world.standard_log(), world.receipt_entry(9, CM, "read", raw=stranger)]
    tree, _ = signed_log(world, entries)
    bundle = replace(
        build(world, entries),
        receipts=(ReceiptEvidence(stranger, world.certs[CM], proof(tree, entries, 9)),),
    )
    with pytest.raises(EvidenceReceiptError, match="not a recipient"):
        check(world, encode_bundle(bundle))


def test_a_receipt_for_other_envelope_bytes_is_refused(world: World) -> None:
    other = receipt(world.keys, world.sealed.raw + b" ", world.mid, GH, "read")
    entries = [*world.standard_log(), world.receipt_entry(9, GH, "read", raw=other)]
    tree, _ = signed_log(world, entries)
    bundle = replace(
        build(world, entries),
        receipts=(ReceiptEvidence(other, world.certs[GH], proof(tree, entries, 9)),),
    )
    with pytest.raises(EvidenceReceiptError, match="does not verify for this envelope"):
        check(world, encode_bundle(bundle))


def test_a_receipt_signed_with_an_uncertified_key_is_refused(world: World) -> None:
    impostor = {**world.keys, GH: KeySet.generate()}
    forged = receipt(impostor, world.sealed.raw, world.mid, GH, "read")
    entries = [*world.standard_log(), world.receipt_entry(9, GH, "read", raw=forged)]
    tree, _ = signed_log(world, entries)
    bundle = replace(
        build(world, entries),
        receipts=(ReceiptEvidence(forged, world.certs[GH], proof(tree, entries, 9)),),
    )
    with pytest.raises(EvidenceCertificateError, match="key that signed the receipt"):
        check(world, encode_bundle(bundle))


def test_a_receipt_whose_entry_states_another_status_is_refused(world: World) -> None:
    entries = world.standard_log()
    doc = json.loads(entries[5])
    doc["details"]["status"] = "read"
    entries[5] = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    with pytest.raises(EvidenceEntryError, match="status"):
        check(world, encode_bundle(build(world, entries)))


def test_a_receipt_logged_before_the_message_is_refused(world: World) -> None:
    entries = world.standard_log()
    entries[3] = world.receipt_entry(3, GH, "delivered")
    bundle = build(world, entries, receipts=((GH, "delivered", 3),))
    with pytest.raises(EvidenceEntryError, match="before the message"):
        check(world, encode_bundle(bundle))


def test_a_disclosed_key_that_opens_nothing_valid_is_refused(world: World) -> None:
    """A key that matches no commitment cannot be passed off as the content key."""
    bundle = build(world)
    assert bundle.disclosure is not None
    wrong = replace(
        bundle,
        disclosure=replace(
            bundle.disclosure,
            key=ContentKeyDisclosure(bundle.disclosure.key.envelope_sha256, bytes(32)),
        ),
    )
    with pytest.raises(EvidenceDisclosureError, match="does not open"):
        check(world, encode_bundle(wrong))
