"""``pgs evidence``: make and check evidence bundles (docs/audit-log.md, "Evidence bundles").

``get`` collects, as a message's sender or one of its recipients, everything a third party needs
to verify offline that the message was sent, accepted and acknowledged: the exact envelope, the
certificates, the log entries with inclusion proofs in one signed checkpoint, the receipts, and
(``--disclose-key``, a recipient only) the content key. ``verify`` checks a bundle with nothing but
the pinned authority key and the pinned log key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.cli.common import err, fail, out, reported_errors, say
from hub.cli.connection import async_command, hub_options
from hub.cli.context import LOG_KEY_ENV, CliContext, load_witness_policy, require_log_key
from hub.settings import DEFAULTS

if TYPE_CHECKING:
    from crypto.keys import SigningKey
    from crypto.note import NoteVerifier
    from crypto.witness import WitnessPolicy
    from hub.client import HubClient
    from hub.client.log import InclusionAnswer, LogEntry
    from protocols.evidence import BundleReport, EvidenceBundle, LogProof

SCAN_CONCURRENCY = 16
CHECKPOINT_POLL_SECONDS = 2.0
RECEIPT_CLOCK_SKEW = DEFAULTS.clock_skew_seconds  # how far off its clock the hub accepts


LOG_KEY_OPTION = click.option(
    "--log-key",
    envvar=LOG_KEY_ENV,
    required=True,
    help=f"The log's pinned verifier key (name+hash+base64) or a file holding it (${LOG_KEY_ENV}).",
)


@click.group()
def evidence() -> None:
    """Evidence bundles: prove to a third party what was sent, accepted and acknowledged."""


def _digest(data: bytes) -> str:
    from crypto.b64 import b64u_encode

    return b64u_encode(hashlib.sha256(data).digest())


async def _certificate(hub: HubClient, participant: str, kid: str) -> bytes:
    """The certificate (exact bytes) that certifies ``participant``'s key ``kid``."""
    from hub.client import TrustError

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
    from hub.client import HubClientError
    from hub.client.log import LogEntry, inclusion_proof

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
    from protocols.messages.receipt import ReceiptStatus
    from protocols.receipts import make_receipt, sign_receipt

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


async def _covering_checkpoint(hub: HubClient, size: int, wait: float) -> bytes:
    """A signed checkpoint of at least ``size`` entries: the latest, else a fresh one (auditors,
    admins), else wait for the hub's housekeeping to sign one."""
    from hub.client import HubClientError
    from hub.client.log import checkpoint

    latest = await checkpoint(hub)
    if latest.size >= size:
        return latest.note
    try:
        return (await checkpoint(hub, fresh=True)).note
    except HubClientError as exc:
        if exc.status != 403:
            raise
    deadline = time.monotonic() + wait
    with err.status(f"waiting for the hub to sign a checkpoint of {size} entries or more…"):
        while time.monotonic() < deadline:
            await asyncio.sleep(CHECKPOINT_POLL_SECONDS)
            latest = await checkpoint(hub)
            if latest.size >= size:
                return latest.note
    return fail(f"no signed checkpoint covers entry {size - 1} yet: try again later (or --wait)")


def _proof(answer: InclusionAnswer) -> LogProof:
    from protocols.evidence import LogProof

    if answer.entry is None:
        fail(f"the hub sent no entry with the proof of entry {answer.index}")
    return LogProof(answer.index, answer.entry, tuple(answer.proof))


async def _sender_receipts(hub: HubClient, mid: str) -> list[tuple[bytes, int]]:
    """The sender's receipts (from its mailbox) with the index of each one's log entry."""
    from hub.client.log import inclusion_proof

    by_digest = {_digest(r): r for r in await _inbox_receipts(hub, mid)}
    accepted = await inclusion_proof(hub, mid=mid)  # its size covers every receipt just read
    found = await _receipt_entries(
        hub, mid, accepted.index + 1, accepted.size, wanted=set(by_digest), by=None
    )
    if len(found) < len(by_digest):
        err.print(f"note: {len(by_digest) - len(found)} receipt(s) not found in the log; left out")
    return [(by_digest[e.decoded()["details"]["receipt_sha256"]], e.index) for e in found]


async def _own_receipts(
    hub: HubClient, mid: str, envelope: bytes, accepted: InclusionAnswer
) -> list[tuple[bytes, int]]:
    """A recipient's own receipts, rebuilt, with the index of each one's log entry."""
    assert hub.me is not None  # noqa: S101 - hub_options always loads keys
    me = hub.me
    found = await _receipt_entries(
        hub, mid, accepted.index + 1, accepted.size, wanted=None, by=me.id
    )
    items: list[tuple[bytes, int]] = []
    for entry in found:
        rebuilt = _rebuild_receipt(envelope, mid, entry.decoded(), me.signing, me.id)
        if rebuilt is None:
            err.print(f"note: cannot rebuild your receipt logged at entry {entry.index}; left out")
        else:
            items.append((rebuilt, entry.index))
    return items


async def _collect(
    hub: HubClient,
    mid: str,
    *,
    disclose_key: bool,
    wait: float,
    verifier: NoteVerifier | None,
    with_attachments: bool = False,
) -> EvidenceBundle:
    """Everything the bundle of ``mid`` holds, with every proof in one signed checkpoint."""
    from crypto.disclosure import ContentKeyDisclosure
    from crypto.note import parse_checkpoint, verify_checkpoint
    from hub.client import HubClientError
    from hub.client.log import inclusion_proof, key_proof
    from protocols.envelope import read_header
    from protocols.evidence import DisclosureEvidence, EvidenceBundle, ReceiptEvidence
    from protocols.receipts import read_receipt

    assert hub.me is not None  # noqa: S101 - hub_options always loads keys
    me = hub.me
    raw = await hub.fetch(mid)
    _, header = read_header(raw)
    mine = header.recipient(me.id)
    if header.sender.id != me.id and mine is None:
        fail("you are neither the sender nor a recipient of this message")
    if disclose_key and (mine is None or hub.authority is None):
        fail("--disclose-key is for a recipient, with --authority to verify the sender")
    accepted = await inclusion_proof(hub, mid=mid)
    if header.sender.id == me.id:
        receipt_items = await _sender_receipts(hub, mid)
    else:
        receipt_items = await _own_receipts(hub, mid, raw, accepted)
    receipt_items.sort(key=lambda pair: pair[1])
    try:
        key_entry: InclusionAnswer | None = await key_proof(hub, header.sender.kid)
    except HubClientError as exc:
        if exc.status != 404:
            raise
        key_entry = None
    needed = max([accepted.index, *(index for _, index in receipt_items)]) + 1
    note = await _covering_checkpoint(hub, needed, wait)
    text = note.decode("utf-8").rpartition("\n\n")[0] + "\n"
    size = (verify_checkpoint(note, verifier) if verifier else parse_checkpoint(text)).size
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
        checkpoint=note,
        accepted=_proof(await inclusion_proof(hub, mid=mid, size=size)),
        sender_key=(
            _proof(await key_proof(hub, header.sender.kid, size))
            if key_entry is not None and key_entry.index < size
            else None
        ),
        receipts=tuple(receipts),
        disclosure=disclosure,
    )


async def _attachment_blobs(hub: HubClient, uploads: tuple[str, ...]) -> tuple[Any, ...]:
    """The encrypted blobs of the message's attachments, as the hub serves them."""
    import tempfile

    from protocols.evidence import AttachmentEvidence

    found = []
    with tempfile.TemporaryDirectory(prefix="pgs-evidence-") as folder:
        for upload in uploads:
            target = Path(folder) / upload
            await hub.download_blob(upload, target)
            found.append(AttachmentEvidence(upload, target.read_bytes()))
    return tuple(found)


@evidence.command("get")
@click.argument("mid")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="Where to write the bundle (JSON).",
)  # fmt: skip
@click.option(
    "--disclose-key",
    is_flag=True,
    help="Recipients: add the message's content key, so the verifier can read the message.",
)
@click.option(
    "--with-attachments",
    is_flag=True,
    help="With --disclose-key: add the attachments' encrypted files, so the verifier checks them.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=90,
    show_default=True,
    help="Seconds to wait for a signed checkpoint that covers the message's entries.",
)
@click.option(
    "--tlog-proof",
    "tlog_proof",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the acceptance as an offline C2SP tlog-proof file (FILE.tlog-proof).",
)
@hub_options
@async_command
async def get(
    mid: str,
    output: Path,
    disclose_key: bool,
    with_attachments: bool,
    wait: float,
    tlog_proof: Path | None,
    cli: CliContext,
) -> None:
    """Collect the evidence bundle of message MID (you must be its sender or a recipient): the
    envelope, certificates, log entries with inclusion proofs, receipts, and with --disclose-key
    the content key. With --authority and --log-key it is verified before it is written."""
    from hub.client.log import LogAnswerError
    from protocols.evidence import EvidenceError, encode_bundle, verify_bundle

    cli.pinned_log_key()  # a malformed key is refused before a passphrase is asked for
    if with_attachments and not disclose_key:
        fail("--with-attachments needs --disclose-key: files are checked against the content")
    async with cli.client() as hub:
        from hub.cli.mailstate import resolve_mid

        mid = await resolve_mid(hub, mid)  # a short id, as `pgs inbox` shows it
        verifier = hub.log_key
        with reported_errors():
            try:
                bundle = await _collect(
                    hub, mid, disclose_key=disclose_key, wait=wait, verifier=verifier,
                    with_attachments=with_attachments,
                )  # fmt: skip
            except LogAnswerError as exc:
                fail(f"[{exc.code}] {exc}")
    data = encode_bundle(bundle)
    if verifier is not None and hub.authority is not None:
        try:
            report = verify_bundle(
                data, authority=hub.authority, log_verifier=verifier,
                witness_policy=hub.witness_policy, now=int(time.time()),
            )  # fmt: skip
        except EvidenceError as exc:
            fail(f"the hub's answers do not make valid evidence [{exc.code}] {exc}", 3)
        _print_report(report)
    else:
        err.print(say("cli.evidence.not_checked"))
    output.write_bytes(data)
    if tlog_proof is not None:
        from crypto.tlog_proof import make_tlog_proof
        from hub.i18n import resolve, t

        accepted = bundle.accepted
        tlog_proof.write_bytes(
            make_tlog_proof(accepted.index, accepted.proof, bundle.checkpoint, accepted.entry)
        )
        written = t("witness.proof_written", resolve(), index=accepted.index, path=tlog_proof)
        out.print(written, markup=False)
    out.print(
        say("cli.evidence.written", mid=mid, path=output, n=len(bundle.receipts),
            index=bundle.accepted.index)
        + (say("cli.evidence.key_disclosed") if bundle.disclosure else "")
        + (f", {len(bundle.attachments)} attachment file(s)" if bundle.attachments else ""),
        markup=False,
    )  # fmt: skip


def _print_report(report: BundleReport) -> None:
    from rich.table import Table

    from hub.cli.render import content_lines, kind_name
    from hub.i18n import resolve
    from protocols.evidence import strongest_status

    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.accepted_at))
    lang = resolve(None)
    title = say("cli.evidence.title", kind=kind_name(report.kind.value, lang), mid=report.mid)
    table = Table(show_header=False, title=title)
    table.add_row(say("cli.evidence.sender"), say("cli.evidence.sender_ok", who=report.sender))
    group = say("cli.read.group", group=report.group) if report.group else ""
    handling = f"TLP:{report.tlp.value}" + (f", {group}" if group else "")
    table.add_row(say("cli.read.handling"), handling)
    accepted = say("cli.evidence.accepted_at", when=when, index=report.log_index)
    table.add_row(say("cli.evidence.accepted"), accepted)
    table.add_row(
        say("cli.evidence.log"),
        say("cli.evidence.log_ok", origin=report.checkpoint.origin, size=report.checkpoint.size),
    )
    if report.sender_key_index is not None:
        table.add_row(
            say("cli.evidence.sender_key"),
            say("cli.evidence.sender_key_ok", index=report.sender_key_index),
        )
    for recipient in report.recipients:
        status = strongest_status(report.receipts, recipient)
        entries = [r for r in report.receipts if r.by == recipient]
        detail = (
            say("cli.evidence.receipt", status=say(f"cli.value.{status.value}"),
                index=max(r.log_index for r in entries))
            if status is not None
            else say("cli.evidence.no_receipt")
        )  # fmt: skip
        table.add_row(f"→ {recipient}", detail)
    if report.disclosed_by is not None:
        table.add_row(
            say("cli.read.content"), say("cli.evidence.disclosed", who=report.disclosed_by)
        )
    if report.uploads and not report.attachments:
        table.add_row("attachments", f"{len(report.uploads)} (described in the encrypted content)")
    for a in report.attachments:
        checked = "file verified" if a.content_verified else "file not in this bundle"
        table.add_row(f"attachment {a.name}", f"{a.size} bytes, SHA-256 {a.sha256}; {checked}")
    out.print(table)
    if report.content is not None:
        content = report.content.model_dump(mode="json", exclude_none=True)
        for line in content_lines(content, lang, 1):
            out.print(line, markup=False)


def _check_tlog_proof(
    path: Path, bundle: bytes, verifier: NoteVerifier, policy: WitnessPolicy | None
) -> None:
    """The tlog-proof file must prove the bundle's own acceptance entry (exit 3 otherwise)."""
    from crypto.errors import CryptoError
    from crypto.tlog_proof import verify_tlog_proof
    from hub.i18n import resolve, t
    from protocols.evidence import decode_bundle

    accepted = decode_bundle(bundle).accepted
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    try:
        opened, proof, _ = verify_tlog_proof(
            data, log=verifier, policy=policy, entry=accepted.entry, now=int(time.time())
        )
    except CryptoError as exc:
        fail(f"the tlog proof does not verify [{exc.code}] {exc}", 3)
    if proof.index != accepted.index:
        fail("the tlog proof is of another entry than the bundle's acceptance", 3)
    size = opened.checkpoint.size
    out.print(t("witness.proof_ok", resolve(), index=proof.index, size=size), markup=False)


@evidence.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--authority",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="PGS_AUTHORITY_KEY",
    required=True,
    help="Pinned registry-authority public key, a JWK file ($PGS_AUTHORITY_KEY).",
)
@LOG_KEY_OPTION
@click.option(
    "--witness-policy",
    envvar="PGS_WITNESS_POLICY",
    default=None,
    help="Pinned witness policy (c2sp.org/tlog-policy): the checkpoint must be cosigned by a"
    " quorum of its witnesses ($PGS_WITNESS_POLICY).",
)
@click.option(
    "--tlog-proof",
    "tlog_proof",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Also check this offline C2SP tlog-proof file of the message's acceptance.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(
    bundle: Path,
    authority: Path,
    log_key: str,
    witness_policy: str | None,
    tlog_proof: Path | None,
    as_json: bool,
) -> None:
    """Check an evidence bundle offline, with the two pinned keys only (and the pinned witness
    policy, if given). Exit status 0 when every part verifies, 3 when the bundle proves nothing
    (with the reason), 1 when it cannot be read."""
    from crypto.b64 import b64u_encode
    from crypto.errors import CryptoError
    from crypto.keys import verify_key_from_jwk
    from protocols.evidence import EvidenceError, verify_bundle

    verifier = require_log_key(log_key)
    try:
        pinned = verify_key_from_jwk(json.loads(authority.read_text("utf-8")))
    except (OSError, ValueError, CryptoError) as exc:
        fail(f"cannot read the authority key {authority}: {exc}")
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        fail(f"cannot read {bundle}: {exc.strerror}")
    policy = load_witness_policy(witness_policy)
    try:
        report = verify_bundle(
            data, authority=pinned, log_verifier=verifier, witness_policy=policy,
            now=int(time.time()),
        )  # fmt: skip
    except EvidenceError as exc:
        if exc.code == "evidence.no_quorum":
            from hub.i18n import resolve, t

            fail(t("witness.no_quorum", resolve(), code=exc.code, reason=exc.reason), 3)
        fail(say("cli.evidence.invalid", code=exc.code, reason=exc), 3)
    if tlog_proof is not None:
        _check_tlog_proof(tlog_proof, data, verifier, policy)
    if as_json:
        doc = {
            "mid": report.mid,
            "kind": report.kind.value,
            "tlp": report.tlp.value,
            "sender": report.sender,
            "recipients": list(report.recipients),
            "envelope_sha256": b64u_encode(report.envelope_sha256),
            "accepted_at": report.accepted_at,
            "log_index": report.log_index,
            "checkpoint": {"origin": report.checkpoint.origin, "size": report.checkpoint.size},
            "sender_key_index": report.sender_key_index,
            "receipts": [
                {
                    "by": r.by,
                    "status": r.status.value,
                    "at": r.at.isoformat(),
                    "log_index": r.log_index,
                }
                for r in report.receipts
            ],
            "disclosed_by": report.disclosed_by,
            "attachment_uploads": list(report.uploads),
            "attachments": [
                {
                    "name": a.name,
                    "media_type": a.media_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "ciphertext_sha256": a.ciphertext_sha256,
                    "content_verified": a.content_verified,
                }
                for a in report.attachments
            ],
            "content": (
                report.content.model_dump(mode="json", exclude_none=True)
                if report.content is not None
                else None
            ),
        }
        click.echo(json.dumps(doc, ensure_ascii=False))
        return
    _print_report(report)
    out.print(f"[bold green]{say('cli.evidence.verified')}[/]")


@evidence.command("verify-proof")
@click.argument("proof", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@LOG_KEY_OPTION
@click.option(
    "--witness-policy",
    envvar="PGS_WITNESS_POLICY",
    default=None,
    help="Pinned witness policy (c2sp.org/tlog-policy): the checkpoint must be cosigned by a"
    " quorum of its witnesses ($PGS_WITNESS_POLICY).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the proven entry as JSON.")
def verify_proof(proof: Path, log_key: str, witness_policy: str | None, as_json: bool) -> None:
    """Check a C2SP tlog-proof file offline (from `pgs evidence get --tlog-proof`): the entry it
    carries is at its index of a checkpoint signed by the pinned log key and, with a policy,
    cosigned by a quorum of witnesses. Exit status 0, 3 when it proves nothing, 1 unreadable."""
    from crypto.errors import CryptoError
    from crypto.tlog_proof import verify_tlog_proof
    from hub.i18n import resolve, t

    verifier = require_log_key(log_key)
    policy = load_witness_policy(witness_policy)
    try:
        data = proof.read_bytes()
    except OSError as exc:
        fail(f"cannot read {proof}: {exc.strerror}")
    try:
        opened, parsed, entry = verify_tlog_proof(
            data, log=verifier, policy=policy, now=int(time.time())
        )
    except CryptoError as exc:
        fail(f"the tlog proof does not verify [{exc.code}] {exc}", 3)
    try:
        doc = json.loads(entry)
    except ValueError:
        doc = None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "index": parsed.index,
                    "checkpoint": {
                        "origin": opened.checkpoint.origin,
                        "size": opened.checkpoint.size,
                    },
                    "cosigned_by": sorted(opened.cosigned),
                    "entry": doc,
                },
                ensure_ascii=False,
            )
        )
        return
    size = opened.checkpoint.size
    out.print(t("witness.proof_ok", resolve(), index=parsed.index, size=size), markup=False)
    if isinstance(doc, dict):
        out.print(f"{doc.get('event')} {doc.get('subject')} by {doc.get('actor')}", markup=False)
    if policy is not None:
        names = ", ".join(sorted(opened.cosigned))
        out.print(t("witness.quorum_ok", resolve(), names=names), markup=False)
