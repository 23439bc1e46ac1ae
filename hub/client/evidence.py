"""Evidence bundles from the hub's answers: what a message's sender or recipient collects so that a
third party can verify offline that the message was sent, accepted and acknowledged
(docs/audit-log.md, "Evidence bundles").

The bundle is assembled here and checked by :func:`protocols.evidence.verify_bundle`; ``pgs
evidence get`` only parses options and prints. A receipt's log entry cannot be looked up, so the
entries after the acceptance are probed one by one (a participant may read those about its own
messages); a recipient's own receipts are rebuilt byte for byte, since Ed25519 is deterministic.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.disclosure import ContentKeyDisclosure
from pgs_hub.crypto.note import parse_checkpoint, verify_checkpoint
from pgs_hub.crypto.tlog_proof import make_tlog_proof
from pgs_hub.hub.client.errors import HubClientError, TrustError
from pgs_hub.hub.client.log import LogEntry, checkpoint, inclusion_proof, key_proof
from pgs_hub.hub.settings import DEFAULTS
from pgs_hub.protocols.envelope import read_header
from pgs_hub.protocols.evidence import (
    AttachmentEvidence,
    DisclosureEvidence,
    EvidenceBundle,
    LogProof,
    ReceiptEvidence,
    encode_bundle,
    verify_bundle,
)
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, read_receipt, sign_receipt

if TYPE_CHECKING:
    from pgs_hub.crypto.keys import SigningKey
    from pgs_hub.crypto.note import NoteVerifier
    from pgs_hub.hub.client import HubClient
    from pgs_hub.hub.client.log import InclusionAnswer
    from pgs_hub.protocols.evidence import BundleReport

__all__ = ["CollectError", "acceptance_tlog_proof", "collect_bundle", "encode_checked"]

SCAN_CONCURRENCY = 16
CHECKPOINT_POLL_SECONDS = 2.0
RECEIPT_CLOCK_SKEW = DEFAULTS.clock_skew_seconds  # how far off its clock the hub accepts

Note = Callable[[str], None]
Waiting = Callable[[int], AbstractContextManager[object]]


class CollectError(Exception):
    """No bundle can be made: not the caller's message, no covering checkpoint, a bad answer."""


def _no_note(_: str) -> None:
    """Notes about receipts left out go nowhere unless the caller listens."""


def _no_wait_shown(_: int) -> AbstractContextManager[object]:
    return nullcontext()


def _digest(data: bytes) -> str:
    return b64u_encode(hashlib.sha256(data).digest())


async def _certificate(hub: HubClient, participant: str, kid: str) -> bytes:
    """The certificate (exact bytes) that certifies ``participant``'s key ``kid``."""

    entry = await hub.participant(participant)
    for key in entry.keys:
        if key.kid == kid and key.certificate:
            return key.certificate.encode("utf-8")
    raise TrustError(f"the directory has no certificate for {participant}'s key {kid}")


async def _inbox_receipts(hub: HubClient, mid: str) -> list[bytes]:
    """The signed receipts for ``mid`` in the sender's mailbox (every page)."""
    found: list[bytes] = []
    after = 0
    while True:
        page = await hub.inbox(after, 500)
        for item in page.items:
            if item.type == "receipt" and item.mid == mid and item.receipt:
                found.append(item.receipt.encode("utf-8"))
        if not page.items:
            return found
        after = page.next


async def _receipt_entries(
    hub: HubClient, mid: str, first: int, end: int, *, wanted: set[str] | None, by: str | None
) -> list[LogEntry]:
    """The ``receipt.recorded`` entries of ``mid`` in ``[first, end)``, found by asking for each
    entry in turn (a participant may read the entries about its own messages, and the API has no
    lookup of a receipt's entry). Stops once every digest in ``wanted`` is found."""
    limit = asyncio.Semaphore(SCAN_CONCURRENCY)

    async def probe(index: int) -> LogEntry | None:
        async with limit:
            try:
                answer = await inclusion_proof(hub, index=index)
            except HubClientError as exc:
                if exc.status == 404:
                    return None
                raise
        return LogEntry(index, answer.entry) if answer.entry is not None else None

    found: list[LogEntry] = []
    remaining = set(wanted) if wanted is not None else None
    for batch in range(first, end, SCAN_CONCURRENCY * 4):
        items = await asyncio.gather(
            *(probe(i) for i in range(batch, min(end, batch + SCAN_CONCURRENCY * 4)))
        )
        for item in items:
            if item is None:
                continue
            doc = item.decoded()
            if doc.get("event") != "receipt.recorded" or doc.get("subject") != mid:
                continue
            if by is not None and doc.get("actor") != by:
                continue
            digest = (doc.get("details") or {}).get("receipt_sha256")
            if remaining is not None:
                if digest not in remaining:
                    continue
                remaining.discard(digest)
            found.append(item)
        if remaining is not None and not remaining:
            break
    return found


def _rebuild_receipt(
    envelope: bytes, mid: str, entry: dict[str, Any], signer: SigningKey, me: str
) -> bytes | None:
    """The receipt this recipient signed, rebuilt byte for byte: Ed25519 signatures are
    deterministic, so the same statement at the same second gives the same bytes. The second is
    searched around the time the hub logged it, and the result must hash to the logged digest."""
    details = entry.get("details") or {}
    target, at = details.get("receipt_sha256"), int(entry.get("at") or 0)
    status = ReceiptStatus(str(details.get("status")))
    for delta in range(RECEIPT_CLOCK_SKEW + 1):
        for moment in {at - delta, at + delta}:
            body = make_receipt(
                envelope=envelope,
                mid=mid,
                status=status,
                by=me,
                at=datetime.fromtimestamp(moment, UTC),
            )
            raw = sign_receipt(body, signer)
            if _digest(raw) == target:
                return raw
    return None


async def _covering_checkpoint(hub: HubClient, size: int, wait: float, waiting: Waiting) -> bytes:
    """A signed checkpoint of at least ``size`` entries: the latest, else a fresh one (auditors,
    admins), else wait for the hub's housekeeping to sign one."""
    latest = await checkpoint(hub)
    if latest.size >= size:
        return latest.note
    try:
        return (await checkpoint(hub, fresh=True)).note
    except HubClientError as exc:
        if exc.status != 403:
            raise
    deadline = time.monotonic() + wait
    with waiting(size):
        while time.monotonic() < deadline:
            await asyncio.sleep(CHECKPOINT_POLL_SECONDS)
            latest = await checkpoint(hub)
            if latest.size >= size:
                return latest.note
    raise CollectError(
        f"no signed checkpoint covers entry {size - 1} yet: try again later (or --wait)"
    )


def _proof(answer: InclusionAnswer) -> LogProof:
    if answer.entry is None:
        raise CollectError(f"the hub sent no entry with the proof of entry {answer.index}")
    return LogProof(answer.index, answer.entry, tuple(answer.proof))


async def _sender_receipts(hub: HubClient, mid: str, note: Note) -> list[tuple[bytes, int]]:
    """The sender's receipts (from its mailbox) with the index of each one's log entry."""
    by_digest = {_digest(r): r for r in await _inbox_receipts(hub, mid)}
    accepted = await inclusion_proof(hub, mid=mid)  # its size covers every receipt just read
    found = await _receipt_entries(
        hub, mid, accepted.index + 1, accepted.size, wanted=set(by_digest), by=None
    )
    if len(found) < len(by_digest):
        note(f"{len(by_digest) - len(found)} receipt(s) not found in the log; left out")
    return [(by_digest[e.decoded()["details"]["receipt_sha256"]], e.index) for e in found]


async def _own_receipts(
    hub: HubClient, mid: str, envelope: bytes, accepted: InclusionAnswer, note: Note
) -> list[tuple[bytes, int]]:
    """A recipient's own receipts, rebuilt, with the index of each one's log entry."""
    assert hub.me is not None  # noqa: S101 - the CLI always loads keys
    me = hub.me
    found = await _receipt_entries(
        hub, mid, accepted.index + 1, accepted.size, wanted=None, by=me.id
    )
    items: list[tuple[bytes, int]] = []
    for entry in found:
        rebuilt = _rebuild_receipt(envelope, mid, entry.decoded(), me.signing, me.id)
        if rebuilt is None:
            note(f"cannot rebuild your receipt logged at entry {entry.index}; left out")
        else:
            items.append((rebuilt, entry.index))
    return items


async def collect_bundle(
    hub: HubClient,
    mid: str,
    *,
    disclose_key: bool,
    wait: float,
    verifier: NoteVerifier | None,
    with_attachments: bool = False,
    note: Note = _no_note,
    waiting: Waiting = _no_wait_shown,
) -> EvidenceBundle:
    """Everything the bundle of ``mid`` holds, with every proof in one signed checkpoint.

    ``note`` hears of receipts left out; ``waiting`` is entered while the hub is awaited for a
    checkpoint that covers ``size`` entries (a spinner on the terminal). Raises
    :class:`CollectError` when no bundle can be made."""
    assert hub.me is not None  # noqa: S101 - the CLI always loads keys
    me = hub.me
    raw = await hub.fetch(mid)
    _, header = read_header(raw)
    mine = header.recipient(me.id)
    if header.sender.id != me.id and mine is None:
        raise CollectError("you are neither the sender nor a recipient of this message")
    if disclose_key and (mine is None or hub.authority is None):
        raise CollectError(
            "--disclose-key is for a recipient, with --authority to verify the sender"
        )
    accepted = await inclusion_proof(hub, mid=mid)
    if header.sender.id == me.id:
        receipt_items = await _sender_receipts(hub, mid, note)
    else:
        receipt_items = await _own_receipts(hub, mid, raw, accepted, note)
    receipt_items.sort(key=lambda pair: pair[1])
    try:
        key_entry: InclusionAnswer | None = await key_proof(hub, header.sender.kid)
    except HubClientError as exc:
        if exc.status != 404:
            raise
        key_entry = None
    needed = max([accepted.index, *(index for _, index in receipt_items)]) + 1
    note_bytes = await _covering_checkpoint(hub, needed, wait, waiting)
    text = note_bytes.decode("utf-8").rpartition("\n\n")[0] + "\n"
    size = (verify_checkpoint(note_bytes, verifier) if verifier else parse_checkpoint(text)).size
    receipts: list[ReceiptEvidence] = []
    for receipt_raw, index in receipt_items:
        signed, claimed = read_receipt(receipt_raw)
        receipts.append(
            ReceiptEvidence(
                receipt=receipt_raw,
                certificate=await _certificate(hub, claimed.by, signed.kid),
                log=_proof(await inclusion_proof(hub, index=index, size=size)),
            )
        )
    disclosure = None
    if disclose_key and mine is not None:
        opened = await hub.read(mid)
        disclosure = DisclosureEvidence(
            by=me.id,
            certificate=await _certificate(hub, me.id, mine.kid),
            key=ContentKeyDisclosure(hashlib.sha256(raw).digest(), opened.content_key),
        )
    blobs = await _attachment_blobs(hub, header.att or ()) if with_attachments else ()
    return EvidenceBundle(
        attachments=blobs,
        envelope=raw,
        sender_certificate=await _certificate(hub, header.sender.id, header.sender.kid),
        checkpoint=note_bytes,
        accepted=_proof(await inclusion_proof(hub, mid=mid, size=size)),
        sender_key=(
            _proof(await key_proof(hub, header.sender.kid, size))
            if key_entry is not None and key_entry.index < size
            else None
        ),
        receipts=tuple(receipts),
        disclosure=disclosure,
    )


async def _attachment_blobs(
    hub: HubClient, uploads: tuple[str, ...]
) -> tuple[AttachmentEvidence, ...]:
    """The encrypted blobs of the message's attachments, as the hub serves them."""
    found = []
    with tempfile.TemporaryDirectory(prefix="pgs-evidence-") as folder:
        for upload in uploads:
            target = Path(folder) / upload
            await hub.download_blob(upload, target)
            found.append(AttachmentEvidence(upload, target.read_bytes()))
    return tuple(found)


def encode_checked(
    hub: HubClient, bundle: EvidenceBundle, *, now: int
) -> tuple[bytes, BundleReport | None]:
    """The bundle's bytes and, when this client pins both the authority key and the log key, the
    report of checking exactly those bytes as a third party will (None when it cannot be checked
    here). Raises :class:`~protocols.evidence.EvidenceError` when the hub's answers do not make
    valid evidence: better refused now than handed over."""
    data = encode_bundle(bundle)
    if hub.log_key is None or hub.authority is None:
        return data, None
    report = verify_bundle(
        data, authority=hub.authority, log_verifier=hub.log_key,
        witness_policy=hub.witness_policy, now=now,
    )  # fmt: skip
    return data, report


def acceptance_tlog_proof(bundle: EvidenceBundle) -> bytes:
    """The bundle's acceptance entry as an offline C2SP tlog-proof file."""
    accepted = bundle.accepted
    return make_tlog_proof(accepted.index, accepted.proof, bundle.checkpoint, accepted.entry)
