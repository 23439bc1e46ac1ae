"""Evidence bundles: everything a third party needs to check, offline, that one message was sent,
accepted by the hub and acknowledged, and optionally what it said.

A bundle (``pgs-evidence``, version 1; the format is written down in docs/audit-log.md, "Evidence
bundles") holds exact bytes only — the envelope, the sender's certificate, the hub's signed
checkpoint, log entries with their RFC 9162 inclusion proofs, the recipients' signed receipts with
their authors' certificates — and, if a recipient chose to disclose it, the message's content key.
Its verifier trusts two keys and nothing else: the registry authority's (who is who) and the log's
(what the hub recorded). The hub cannot forge a receipt or a sender's signature, and it cannot show
one log to the auditors and another to the holder of a bundle without signing two inconsistent
checkpoints.

:func:`verify_bundle` checks every part and raises a specific :class:`EvidenceError` on the first
thing that does not hold; it returns a :class:`BundleReport` only when everything does. Like the
rest of :mod:`protocols` it does no I/O and reads no clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pgs_hub.crypto import chunked, strictjson
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.disclosure import ContentKeyDisclosure, verify_disclosure
from pgs_hub.crypto.errors import CryptoError, QuorumError
from pgs_hub.crypto.keys import VerifyKey
from pgs_hub.crypto.merkle import HASH_SIZE, MAX_PROOF_HASHES, leaf_hash, verify_inclusion
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, verify_checkpoint
from pgs_hub.crypto.witness import WitnessPolicy, verify_witnessed
from pgs_hub.protocols.certificates import VerifiedCertificate, verify_certificate
from pgs_hub.protocols.envelope import PGS_PROFILE, VerifiedMessage, read_header, verify_message
from pgs_hub.protocols.errors import ProtocolError
from pgs_hub.protocols.messages._base import ContentModel
from pgs_hub.protocols.messages.attachments import MAX_ATTACHMENTS, Attachment
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import Receipt, ReceiptStatus
from pgs_hub.protocols.messages.registry import parse_message
from pgs_hub.protocols.messages.reply import Reply
from pgs_hub.protocols.receipts import read_receipt, verify_receipt
from pgs_hub.protocols.routing import RoutingHeader

__all__ = [
    "BUNDLE_TYPE",
    "BUNDLE_VERSION",
    "AttachmentEvidence",
    "AttachmentReport",
    "BundleReport",
    "DisclosureEvidence",
    "EvidenceAttachmentError",
    "EvidenceBundle",
    "EvidenceCertificateError",
    "EvidenceCheckpointError",
    "EvidenceDisclosureError",
    "EvidenceEntryError",
    "EvidenceError",
    "EvidenceInclusionError",
    "EvidenceMalformedError",
    "EvidenceReceiptError",
    "EvidenceSignatureError",
    "LogProof",
    "ReceiptEvidence",
    "ReceiptReport",
    "decode_bundle",
    "encode_bundle",
    "strongest_status",
    "verify_bundle",
]

BUNDLE_VERSION = 1
BUNDLE_TYPE = "pgs-evidence"
# A 6 MiB envelope is 8 MiB of base64url; 1024 receipts with certificates and proofs fit in the
# rest with room to spare. Attachment blobs, when a bundle carries them, count on top (their
# base64url), up to MAX_ATTACHMENT_EVIDENCE_BYTES of ciphertext in all.
MAX_ATTACHMENT_EVIDENCE_BYTES = 128 * 1024 * 1024
MAX_BUNDLE_BYTES = 16 * 1024 * 1024 + MAX_ATTACHMENT_EVIDENCE_BYTES * 4 // 3
MAX_RECEIPTS = 1024
MAX_ENTRY_BYTES = 256 * 1024
MAX_CERTIFICATE_B64 = 16 * 1024
MAX_CHECKPOINT_CHARS = 8 * 1024
ENTRY_VERSION = 1
KEY_EVENTS = frozenset({"participant.enrolled", "keys.rotated"})

_BUNDLE_MEMBERS = frozenset(
    {"v", "type", "envelope", "sender_certificate", "checkpoint", "accepted"}
)
_BUNDLE_OPTIONAL = frozenset({"sender_key", "receipts", "disclosure", "attachments"})
_ATTACHMENT_MEMBERS = frozenset({"upload", "blob"})
_PROOF_MEMBERS = frozenset({"index", "entry", "proof"})
_RECEIPT_MEMBERS = frozenset({"receipt", "certificate", "log"})
_DISCLOSURE_MEMBERS = frozenset({"by", "certificate", "key"})


# --- errors --------------------------------------------------------------------------------------


class EvidenceError(ProtocolError):
    """Base of the evidence errors: the bundle proves nothing. ``part`` names where it failed
    (``"checkpoint"``, ``"accepted"``, ``"receipts[1]"`` …)."""

    code = "evidence.invalid"

    def __init__(self, part: str, reason: str) -> None:
        self.part = part
        self.reason = reason
        super().__init__(f"{part}: {reason}")


class EvidenceMalformedError(EvidenceError):
    """The bundle is not a version 1 evidence bundle (JSON shape, encodings, sizes)."""

    code = "evidence.malformed"


class EvidenceCheckpointError(EvidenceError):
    """The checkpoint is not signed by the pinned log key, or names another log."""

    code = "evidence.checkpoint"


class EvidenceQuorumError(EvidenceError):
    """The checkpoint is signed by the log but not cosigned by a quorum of the pinned witness
    policy's witnesses: it may be a view of the log shown to this bundle's maker only."""

    code = "evidence.no_quorum"


class EvidenceInclusionError(EvidenceError):
    """A log entry's inclusion proof does not lead to the checkpoint's root."""

    code = "evidence.inclusion"


class EvidenceEntryError(EvidenceError):
    """A log entry (included in the log) does not describe what the bundle claims it does: another
    envelope, sender, recipient list, receipt or key, or an impossible order."""

    code = "evidence.entry_mismatch"


class EvidenceCertificateError(EvidenceError):
    """A certificate is not signed by the pinned authority, or certifies someone or something
    else than the bundle needs."""

    code = "evidence.certificate"


class EvidenceSignatureError(EvidenceError):
    """The envelope is not signed by the key the sender's certificate certifies."""

    code = "evidence.envelope_signature"


class EvidenceReceiptError(EvidenceError):
    """A receipt is not signed by its author, is not about this exact envelope, or is not by one
    of its recipients."""

    code = "evidence.receipt"


class EvidenceDisclosureError(EvidenceError):
    """The disclosed content key does not open the envelope into a valid message of its kind."""

    code = "evidence.disclosure"


class EvidenceAttachmentError(EvidenceError):
    """An attachment blob is not one the message names, or is not the file its content describes
    (size, SHA-256, or a chunk that does not authenticate under the file key)."""

    code = "evidence.attachment"


# --- the bundle (wire model) ---------------------------------------------------------------------


@dataclass(frozen=True)
class LogProof:
    """One log entry (exact bytes), its index and its inclusion proof in the bundle's checkpoint."""

    index: int
    entry: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": b64u_encode(self.entry),
            "proof": [b64u_encode(h) for h in self.proof],
        }


@dataclass(frozen=True)
class ReceiptEvidence:
    """A signed receipt (exact bytes), its author's certificate and its ``receipt.recorded``
    entry."""

    receipt: bytes
    certificate: bytes
    log: LogProof

    def to_json(self) -> dict[str, Any]:
        return {
            "receipt": b64u_encode(self.receipt),
            "certificate": b64u_encode(self.certificate),
            "log": self.log.to_json(),
        }


@dataclass(frozen=True)
class DisclosureEvidence:
    """A recipient's content-key disclosure, with the disclosing recipient's certificate."""

    by: str
    certificate: bytes
    key: ContentKeyDisclosure

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "certificate": b64u_encode(self.certificate),
            "key": strictjson.loads(self.key.to_json(), what="disclosure", max_bytes=1024),
        }


@dataclass(frozen=True)
class AttachmentEvidence:
    """An attachment's encrypted blob, as the hub served it (opened only with a disclosure)."""

    upload: str
    blob: bytes

    def to_json(self) -> dict[str, Any]:
        return {"upload": self.upload, "blob": b64u_encode(self.blob)}


@dataclass(frozen=True)
class EvidenceBundle:
    """The parts of a bundle, as exact bytes; nothing in it is trusted until
    :func:`verify_bundle` has checked it."""

    envelope: bytes
    sender_certificate: bytes
    checkpoint: bytes
    accepted: LogProof
    sender_key: LogProof | None = None
    receipts: tuple[ReceiptEvidence, ...] = ()
    disclosure: DisclosureEvidence | None = None
    attachments: tuple[AttachmentEvidence, ...] = ()


def encode_bundle(bundle: EvidenceBundle) -> bytes:
    """The bundle as UTF-8 JSON (members in a fixed order, one line)."""
    try:
        checkpoint = bundle.checkpoint.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EvidenceMalformedError("checkpoint", "is not UTF-8 text") from exc
    doc: dict[str, Any] = {
        "v": BUNDLE_VERSION,
        "type": BUNDLE_TYPE,
        "envelope": b64u_encode(bundle.envelope),
        "sender_certificate": b64u_encode(bundle.sender_certificate),
        "checkpoint": checkpoint,
        "accepted": bundle.accepted.to_json(),
        "sender_key": bundle.sender_key.to_json() if bundle.sender_key else None,
        "receipts": [r.to_json() for r in bundle.receipts],
        "disclosure": bundle.disclosure.to_json() if bundle.disclosure else None,
    }
    if bundle.attachments:  # absent otherwise: bundles without files encode as before
        doc["attachments"] = [a.to_json() for a in bundle.attachments]
    return strictjson.dumps(doc)


def _members(
    obj: object, part: str, required: frozenset[str], optional: frozenset[str] = frozenset()
) -> Mapping[str, Any]:
    if not isinstance(obj, dict):
        raise EvidenceMalformedError(part, "must be a JSON object")
    try:
        strictjson.require_members(obj, what=part, required=required, optional=optional)
    except CryptoError as exc:
        raise EvidenceMalformedError(part, str(exc).removeprefix(f"{part} ")) from None
    return obj


def _bytes(value: object, part: str, *, max_chars: int) -> bytes:
    if not isinstance(value, str):
        raise EvidenceMalformedError(part, "must be a base64url string")
    if len(value) > max_chars:
        raise EvidenceMalformedError(part, f"is longer than {max_chars} characters")
    try:
        return b64u_decode(value, field=part)
    except CryptoError as exc:
        raise EvidenceMalformedError(part, "is not canonical unpadded base64url") from exc


def _index(value: object, part: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise EvidenceMalformedError(part, "must be a non-negative integer")
    return value


def _log_proof(obj: object, part: str) -> LogProof:
    doc = _members(obj, part, _PROOF_MEMBERS)
    hashes = doc["proof"]
    if not isinstance(hashes, list) or len(hashes) > MAX_PROOF_HASHES:
        raise EvidenceMalformedError(
            f"{part}.proof", f"must be a list of {MAX_PROOF_HASHES} hashes or fewer"
        )
    proof = tuple(_bytes(h, f"{part}.proof[{i}]", max_chars=43) for i, h in enumerate(hashes))
    if any(len(h) != HASH_SIZE for h in proof):
        raise EvidenceMalformedError(f"{part}.proof", f"holds a hash that is not {HASH_SIZE} bytes")
    return LogProof(
        index=_index(doc["index"], f"{part}.index"),
        entry=_bytes(doc["entry"], f"{part}.entry", max_chars=MAX_ENTRY_BYTES * 4 // 3 + 4),
        proof=proof,
    )


def _receipt_evidence(obj: object, part: str) -> ReceiptEvidence:
    doc = _members(obj, part, _RECEIPT_MEMBERS)
    return ReceiptEvidence(
        receipt=_bytes(doc["receipt"], f"{part}.receipt", max_chars=8 * 1024),
        certificate=_bytes(
            doc["certificate"], f"{part}.certificate", max_chars=MAX_CERTIFICATE_B64
        ),
        log=_log_proof(doc["log"], f"{part}.log"),
    )


def _disclosure_evidence(obj: object, part: str) -> DisclosureEvidence:
    doc = _members(obj, part, _DISCLOSURE_MEMBERS)
    by = doc["by"]
    if not isinstance(by, str) or not 0 < len(by) <= 128:
        raise EvidenceMalformedError(f"{part}.by", "must be a participant id")
    key = doc["key"]
    if not isinstance(key, dict):
        raise EvidenceMalformedError(f"{part}.key", "must be a content-key disclosure object")
    try:
        disclosure = ContentKeyDisclosure.from_json(strictjson.dumps(key))
    except CryptoError as exc:
        raise EvidenceMalformedError(f"{part}.key", str(exc)) from exc
    return DisclosureEvidence(
        by=by,
        certificate=_bytes(
            doc["certificate"], f"{part}.certificate", max_chars=MAX_CERTIFICATE_B64
        ),
        key=disclosure,
    )


def _attachment_evidence(obj: object, part: str) -> AttachmentEvidence:
    doc = _members(obj, part, _ATTACHMENT_MEMBERS)
    upload = doc["upload"]
    if not isinstance(upload, str) or not 0 < len(upload) <= 64:
        raise EvidenceMalformedError(f"{part}.upload", "must be an upload id")
    blob = _bytes(doc["blob"], f"{part}.blob", max_chars=MAX_ATTACHMENT_EVIDENCE_BYTES * 4 // 3 + 4)
    return AttachmentEvidence(upload, blob)


def decode_bundle(data: bytes) -> EvidenceBundle:
    """Parse a bundle's JSON strictly (no duplicate or unknown members, canonical base64url)."""
    try:
        doc = strictjson.loads(data, what="bundle", max_bytes=MAX_BUNDLE_BYTES, max_depth=6)
    except CryptoError as exc:
        raise EvidenceMalformedError("bundle", str(exc).removeprefix("bundle ")) from exc
    _members(doc, "bundle", _BUNDLE_MEMBERS, _BUNDLE_OPTIONAL)
    if type(doc["v"]) is not int or doc["v"] != BUNDLE_VERSION:
        raise EvidenceMalformedError("bundle", f"version {doc['v']!r} is not {BUNDLE_VERSION}")
    if doc["type"] != BUNDLE_TYPE:
        raise EvidenceMalformedError("bundle", f"type is not {BUNDLE_TYPE!r}")
    checkpoint = doc["checkpoint"]
    if not isinstance(checkpoint, str) or len(checkpoint) > MAX_CHECKPOINT_CHARS:
        raise EvidenceMalformedError("checkpoint", "must be the signed checkpoint note as text")
    receipts = doc.get("receipts") or []
    if not isinstance(receipts, list) or len(receipts) > MAX_RECEIPTS:
        raise EvidenceMalformedError("receipts", f"must be a list of at most {MAX_RECEIPTS}")
    sender_key = doc.get("sender_key")
    disclosure = doc.get("disclosure")
    attachments = doc.get("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise EvidenceMalformedError("attachments", f"must be a list of at most {MAX_ATTACHMENTS}")
    return EvidenceBundle(
        envelope=_bytes(
            doc["envelope"],
            "envelope",
            max_chars=PGS_PROFILE.max_envelope_bytes * 4 // 3 + 4,
        ),
        sender_certificate=_bytes(
            doc["sender_certificate"], "sender_certificate", max_chars=MAX_CERTIFICATE_B64
        ),
        checkpoint=checkpoint.encode("utf-8"),
        accepted=_log_proof(doc["accepted"], "accepted"),
        sender_key=None if sender_key is None else _log_proof(sender_key, "sender_key"),
        receipts=tuple(_receipt_evidence(r, f"receipts[{i}]") for i, r in enumerate(receipts)),
        disclosure=None if disclosure is None else _disclosure_evidence(disclosure, "disclosure"),
        attachments=tuple(
            _attachment_evidence(a, f"attachments[{i}]") for i, a in enumerate(attachments)
        ),
    )


# --- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptReport:
    """A verified receipt: who, what they stated, when they say, and where the log has it."""

    by: str
    status: ReceiptStatus
    at: datetime
    log_index: int
    recorded_at: int


@dataclass(frozen=True)
class AttachmentReport:
    """An attachment the message describes (its hashes, from the disclosed content), and whether
    the bundle carried its blob and it decrypted to exactly that file."""

    name: str
    media_type: str
    size: int
    sha256: str
    upload: str | None
    ciphertext_sha256: str | None
    content_verified: bool


@dataclass(frozen=True)
class BundleReport:
    """What a verified bundle proves. ``content`` is set only when a content key was disclosed."""

    mid: str
    sender: str
    sender_kid: str
    recipients: tuple[str, ...]
    kind: MessageKind
    tlp: Tlp
    group: str | None
    envelope_sha256: bytes
    accepted_at: int
    log_index: int
    checkpoint: Checkpoint
    sender_key_index: int | None
    receipts: tuple[ReceiptReport, ...]
    content: ContentModel | None
    disclosed_by: str | None
    uploads: tuple[str, ...] = ()  # the attachment uploads the signed routing header names
    attachments: tuple[AttachmentReport, ...] = ()  # known from a disclosed content only

    def __repr__(self) -> str:  # never show content in logs by accident
        return f"BundleReport(mid={self.mid!r}, kind={self.kind.value!r}, sender={self.sender!r})"


# --- verification --------------------------------------------------------------------------------


def _b64_digest(data: bytes) -> str:
    return b64u_encode(hashlib.sha256(data).digest())


def _same(a: str, b: object) -> bool:
    return isinstance(b, str) and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _included(proof: LogProof, checkpoint: Checkpoint, part: str) -> Mapping[str, Any]:
    """Check ``proof`` against the checkpoint, then read the entry and check its own index."""
    if proof.index >= checkpoint.size:
        raise EvidenceInclusionError(
            part, f"entry {proof.index} is not in the checkpoint's tree of {checkpoint.size}"
        )
    try:
        verify_inclusion(
            leaf_hash(proof.entry), proof.index, checkpoint.size, proof.proof, checkpoint.root
        )
    except CryptoError as exc:
        raise EvidenceInclusionError(
            part, f"entry {proof.index} is not in the log the checkpoint signs ({exc})"
        ) from exc
    try:
        entry = strictjson.loads(proof.entry, what="log entry", max_bytes=MAX_ENTRY_BYTES)
    except CryptoError as exc:  # included, yet not an entry: the log itself is broken
        raise EvidenceEntryError(part, f"the logged entry is not JSON ({exc})") from exc
    if entry.get("v") != ENTRY_VERSION or type(entry.get("v")) is not int:
        raise EvidenceEntryError(part, f"the logged entry is not a version {ENTRY_VERSION} entry")
    if type(entry.get("index")) is not int or entry["index"] != proof.index:
        raise EvidenceEntryError(part, f"the logged entry names another index than {proof.index}")
    if not isinstance(entry.get("details"), dict):
        raise EvidenceEntryError(part, "the logged entry has no details")
    if type(entry.get("at")) is not int:
        raise EvidenceEntryError(part, "the logged entry has no time")
    return entry


def _certificate(raw: bytes, authority: VerifyKey, part: str, subject: str) -> VerifiedCertificate:
    try:
        verified = verify_certificate(raw, authority)
    except (CryptoError, ProtocolError) as exc:
        raise EvidenceCertificateError(
            part, f"is not a certificate signed by the pinned authority ({exc})"
        ) from exc
    if verified.certificate.sub != subject:
        raise EvidenceCertificateError(part, f"certifies {verified.certificate.sub}, not {subject}")
    return verified


def _check_accepted(entry: Mapping[str, Any], header: RoutingHeader, envelope: bytes) -> None:
    part = "accepted"
    details: Mapping[str, Any] = entry["details"]
    if entry.get("event") != "envelope.accepted":
        raise EvidenceEntryError(part, f"the entry is a {entry.get('event')!r} event")
    if not _same(_b64_digest(envelope), details.get("sha256")):
        raise EvidenceEntryError(part, "the entry names another envelope (SHA-256 differs)")
    expected: dict[str, object] = {
        "mid": header.mid,
        "sender": header.sender.id,
        "recipients": [a.id for a in header.to],
        "kind": header.kind.value,
        "tlp": header.tlp.value,
        "group": header.grp,
        "size": len(envelope),
    }
    for name, value in expected.items():
        if details.get(name) != value:
            raise EvidenceEntryError(part, f"the entry's {name} is not the envelope's")
    if entry.get("subject") != header.mid or entry.get("actor") != header.sender.id:
        raise EvidenceEntryError(part, "the entry is about another message or sender")


def _check_sender_key(
    proof: LogProof,
    checkpoint: Checkpoint,
    header: RoutingHeader,
    certificate: bytes,
    accepted_index: int,
) -> int:
    part = "sender_key"
    entry = _included(proof, checkpoint, part)
    details: Mapping[str, Any] = entry["details"]
    if entry.get("event") not in KEY_EVENTS:
        raise EvidenceEntryError(part, f"the entry is a {entry.get('event')!r} event")
    if entry.get("subject") != header.sender.id or details.get("sig_kid") != header.sender.kid:
        raise EvidenceEntryError(part, "the entry logs another participant's or another key")
    if not _same(_b64_digest(certificate), details.get("certificate_sha256")):
        raise EvidenceEntryError(part, "the entry logs another certificate than the bundle's")
    if proof.index >= accepted_index:
        raise EvidenceEntryError(part, "the key was logged after the message was accepted")
    return proof.index


def _check_receipt(
    evidence: ReceiptEvidence,
    part: str,
    *,
    authority: VerifyKey,
    checkpoint: Checkpoint,
    message: VerifiedMessage,
    accepted_index: int,
) -> ReceiptReport:
    header = message.header
    try:
        signed, claimed = read_receipt(evidence.receipt)
    except (CryptoError, ProtocolError) as exc:
        raise EvidenceReceiptError(part, f"is not a signed receipt ({exc})") from exc
    if header.recipient(claimed.by) is None:
        raise EvidenceReceiptError(part, f"{claimed.by} is not a recipient of the message")
    verified = _certificate(evidence.certificate, authority, f"{part}.certificate", claimed.by)
    if verified.verify_key.kid != signed.kid:
        raise EvidenceCertificateError(
            f"{part}.certificate", "does not certify the key that signed the receipt"
        )
    try:
        receipt: Receipt = verify_receipt(
            evidence.receipt, verified.verify_key, envelope=message.raw
        )
    except (CryptoError, ProtocolError) as exc:
        raise EvidenceReceiptError(part, f"does not verify for this envelope ({exc})") from exc
    if receipt.mid != header.mid:
        raise EvidenceReceiptError(part, "names another message id")
    entry = _included(evidence.log, checkpoint, f"{part}.log")
    details: Mapping[str, Any] = entry["details"]
    if entry.get("event") != "receipt.recorded":
        raise EvidenceEntryError(f"{part}.log", f"the entry is a {entry.get('event')!r} event")
    if not _same(_b64_digest(evidence.receipt), details.get("receipt_sha256")):
        raise EvidenceEntryError(f"{part}.log", "the entry records another receipt")
    if (
        details.get("mid") != header.mid
        or details.get("status") != receipt.status.value
        or entry.get("actor") != receipt.by
    ):
        raise EvidenceEntryError(f"{part}.log", "the entry's message, status or author differs")
    if evidence.log.index <= accepted_index:
        raise EvidenceEntryError(f"{part}.log", "the receipt is logged before the message")
    return ReceiptReport(
        by=receipt.by,
        status=receipt.status,
        at=receipt.at,
        log_index=evidence.log.index,
        recorded_at=int(entry["at"]),
    )


def _open_disclosed(
    evidence: DisclosureEvidence,
    *,
    authority: VerifyKey,
    message: VerifiedMessage,
    sender_key: VerifyKey,
) -> ContentModel:
    header = message.header
    addressee = header.recipient(evidence.by)
    if addressee is None:
        raise EvidenceDisclosureError("disclosure", f"{evidence.by} is not a recipient")
    verified = _certificate(evidence.certificate, authority, "disclosure.certificate", evidence.by)
    if verified.recipient_key.kid != addressee.kid:
        raise EvidenceCertificateError(
            "disclosure.certificate", "does not certify the key the envelope was encrypted to"
        )
    try:
        opened = verify_disclosure(message.raw, evidence.key, sender_key, profile=PGS_PROFILE)
        content = parse_message(header.kind, opened.plaintext)
    except (CryptoError, ProtocolError) as exc:
        raise EvidenceDisclosureError(
            "disclosure", f"the content key does not open the envelope ({exc})"
        ) from exc
    if isinstance(content, Reply) and header.irt != content.in_reply_to.mid:
        raise EvidenceDisclosureError("disclosure", "the reply answers another message")
    return content


def _check_blob(described: Attachment, blob: bytes, part: str) -> None:
    """The blob is the ciphertext the content describes and decrypts to the described file."""
    ref = described.blob
    assert ref is not None  # noqa: S101 - the caller matched it by upload id
    if len(blob) != ref.size or not _same(ref.sha256, hashlib.sha256(blob).hexdigest()):
        raise EvidenceAttachmentError(part, "is not the ciphertext the message describes")
    plain = hashlib.sha256()
    size = 0
    try:
        decryptor = chunked.ChunkDecryptor(b64u_decode(ref.key, field="key"))
        for at in range(0, len(blob), chunked.SEALED_CHUNK_SIZE):
            piece = decryptor.update(blob[at : at + chunked.SEALED_CHUNK_SIZE])
            plain.update(piece)
            size += len(piece)
        last = decryptor.finish()
    except CryptoError as exc:
        raise EvidenceAttachmentError(part, f"does not decrypt under the file key ({exc})") from exc
    plain.update(last)
    size += len(last)
    if size != described.size or not _same(described.sha256, plain.hexdigest()):
        raise EvidenceAttachmentError(part, "decrypts to another file than the one described")


def _attachments(
    bundle: EvidenceBundle, header: RoutingHeader, content: ContentModel | None
) -> tuple[AttachmentReport, ...]:
    if bundle.attachments and content is None:
        raise EvidenceMalformedError(
            "attachments", "file contents can be checked only with a disclosed content key"
        )
    if content is None:
        return ()
    described: tuple[Attachment, ...] = getattr(content, "attachments", ())
    by_upload = {a.blob.upload: a for a in described if a.blob is not None}
    carried: set[str] = set()
    for i, evidence in enumerate(bundle.attachments):
        part = f"attachments[{i}]"
        if evidence.upload not in (header.att or ()) or evidence.upload not in by_upload:
            raise EvidenceAttachmentError(part, "is not an attachment of this message")
        if evidence.upload in carried:
            raise EvidenceMalformedError(part, "repeats an earlier attachment")
        _check_blob(by_upload[evidence.upload], evidence.blob, part)
        carried.add(evidence.upload)
    return tuple(
        AttachmentReport(
            name=a.name, media_type=a.media_type, size=a.size, sha256=a.sha256,
            upload=a.blob.upload if a.blob else None,
            ciphertext_sha256=a.blob.sha256 if a.blob else None,
            content_verified=a.blob is not None and a.blob.upload in carried,
        )
        for a in described
    )  # fmt: skip


def verify_bundle(
    bundle_bytes: bytes,
    *,
    authority: VerifyKey,
    log_verifier: NoteVerifier,
    witness_policy: WitnessPolicy | None = None,
    now: int | None = None,
) -> BundleReport:
    """Verify every part of a bundle against the two pinned keys; raise on any mismatch.

    In order: the checkpoint's signature and origin (and, with a ``witness_policy``, a quorum of
    its witnesses' cosignatures); the ``envelope.accepted`` entry's inclusion
    and that it names this envelope's SHA-256, sender and recipients; the sender's certificate and
    the envelope's signature under the key it certifies; the sender's key entry (when present),
    logged before the message; each receipt's certificate, signature, envelope digest and
    ``receipt.recorded`` entry; the disclosed content key, if any (from a recipient whose
    certificate certifies the key the envelope was encrypted to); and the attachment blobs, if
    any (only with a disclosure: each is one the message names, its size and SHA-256 are the
    described ciphertext's, every chunk authenticates under the file key, and the plaintext's
    size and SHA-256 are the described file's).
    """
    bundle = decode_bundle(bundle_bytes)
    try:
        if witness_policy is None:
            checkpoint = verify_checkpoint(bundle.checkpoint, log_verifier)
        else:
            checkpoint = verify_witnessed(
                bundle.checkpoint, witness_policy, log_verifier, now=now
            ).checkpoint
    except QuorumError as exc:
        raise EvidenceQuorumError("checkpoint", str(exc)) from exc
    except CryptoError as exc:
        raise EvidenceCheckpointError(
            "checkpoint", f"is not signed by the pinned log key ({exc})"
        ) from exc
    accepted = _included(bundle.accepted, checkpoint, "accepted")
    try:
        _, header = read_header(bundle.envelope)
    except (CryptoError, ProtocolError) as exc:
        raise EvidenceMalformedError("envelope", f"is not a PGS envelope ({exc})") from exc
    _check_accepted(accepted, header, bundle.envelope)
    sender = _certificate(
        bundle.sender_certificate, authority, "sender_certificate", header.sender.id
    )
    if sender.verify_key.kid != header.sender.kid:
        raise EvidenceCertificateError(
            "sender_certificate", "does not certify the key the envelope names"
        )
    try:
        message = verify_message(bundle.envelope, sender.verify_key)
    except (CryptoError, ProtocolError) as exc:
        raise EvidenceSignatureError(
            "envelope", f"does not verify under the sender's certified key ({exc})"
        ) from exc
    key_index = (
        None
        if bundle.sender_key is None
        else _check_sender_key(
            bundle.sender_key, checkpoint, header, bundle.sender_certificate, bundle.accepted.index
        )
    )
    seen: set[bytes] = set()
    receipts: list[ReceiptReport] = []
    for i, evidence in enumerate(bundle.receipts):
        if evidence.receipt in seen:
            raise EvidenceMalformedError(f"receipts[{i}]", "repeats an earlier receipt")
        seen.add(evidence.receipt)
        receipts.append(
            _check_receipt(
                evidence,
                f"receipts[{i}]",
                authority=authority,
                checkpoint=checkpoint,
                message=message,
                accepted_index=bundle.accepted.index,
            )
        )
    content = (
        None
        if bundle.disclosure is None
        else _open_disclosed(
            bundle.disclosure, authority=authority, message=message, sender_key=sender.verify_key
        )
    )
    return BundleReport(
        mid=header.mid,
        sender=header.sender.id,
        sender_kid=header.sender.kid,
        recipients=tuple(a.id for a in header.to),
        kind=header.kind,
        tlp=header.tlp,
        group=header.grp,
        envelope_sha256=hashlib.sha256(bundle.envelope).digest(),
        accepted_at=int(accepted["at"]),
        log_index=bundle.accepted.index,
        checkpoint=checkpoint,
        sender_key_index=key_index,
        receipts=tuple(receipts),
        content=content,
        disclosed_by=bundle.disclosure.by if bundle.disclosure else None,
        uploads=header.att or (),
        attachments=_attachments(bundle, header, content),
    )


def strongest_status(reports: Sequence[ReceiptReport], recipient: str) -> ReceiptStatus | None:
    """``read`` if the recipient stated it, else ``delivered`` if it did, else None."""
    statuses = {r.status for r in reports if r.by == recipient}
    for status in (ReceiptStatus.READ, ReceiptStatus.DELIVERED):
        if status in statuses:
            return status
    return None
