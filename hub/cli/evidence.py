"""``pgs evidence``: make and check evidence bundles (docs/audit-log.md, "Evidence bundles").

``get`` collects, as a message's sender or one of its recipients, everything a third party needs
to verify offline that the message was sent, accepted and acknowledged: the exact envelope, the
certificates, the log entries with inclusion proofs in one signed checkpoint, the receipts, and
(``--disclose-key``, a recipient only) the content key. ``verify`` checks a bundle with nothing but
the pinned authority key and the pinned log key.

Collecting is the client's work (:mod:`hub.client.evidence`), checking the protocol's
(:mod:`protocols.evidence`); this module parses options and prints.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pgs_hub.hub.cli.common import err, fail, out, reported_errors, say
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import LOG_KEY_ENV, CliContext, load_witness_policy, require_log_key

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from pgs_hub.crypto.note import NoteVerifier
    from pgs_hub.crypto.witness import WitnessPolicy
    from pgs_hub.protocols.evidence import BundleReport

LOG_KEY_OPTION = click.option(
    "--log-key",
    envvar=LOG_KEY_ENV,
    required=True,
    help=f"The log's pinned verifier key (name+hash+base64) or a file holding it (${LOG_KEY_ENV}).",
)


@click.group()
def evidence() -> None:
    """Evidence bundles: prove to a third party what was sent, accepted and acknowledged."""


def _note(text: str) -> None:
    err.print(f"note: {text}")


def _waiting(size: int) -> AbstractContextManager[object]:
    return err.status(f"waiting for the hub to sign a checkpoint of {size} entries or more…")


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
    from pgs_hub.hub.client.evidence import (
        CollectError,
        acceptance_tlog_proof,
        collect_bundle,
        encode_checked,
    )
    from pgs_hub.hub.client.log import LogAnswerError
    from pgs_hub.protocols.evidence import EvidenceError

    cli.pinned_log_key()  # a malformed key is refused before a passphrase is asked for
    if with_attachments and not disclose_key:
        fail(say("cli.evidence.needs_disclose"))
    async with cli.client() as hub:
        from pgs_hub.hub.cli.mailstate import resolve_mid

        mid = await resolve_mid(hub, mid)  # a short id, as `pgs inbox` shows it
        with reported_errors():
            try:
                bundle = await collect_bundle(
                    hub, mid, disclose_key=disclose_key, wait=wait, verifier=hub.log_key,
                    with_attachments=with_attachments, note=_note, waiting=_waiting,
                )  # fmt: skip
            except CollectError as exc:
                fail(str(exc))
            except LogAnswerError as exc:
                fail(f"[{exc.code}] {exc}")
    try:
        data, report = encode_checked(hub, bundle, now=int(time.time()))
    except EvidenceError as exc:
        fail(say("cli.evidence.invalid", code=exc.code, reason=exc), 3)
    if report is not None:
        _print_report(report)
    else:
        err.print(say("cli.evidence.not_checked"))
    output.write_bytes(data)
    if tlog_proof is not None:
        from pgs_hub.hub.i18n import resolve, t

        tlog_proof.write_bytes(acceptance_tlog_proof(bundle))
        index = bundle.accepted.index
        written = t("witness.proof_written", resolve(), index=index, path=tlog_proof)
        out.print(written, markup=False)
    out.print(
        say("cli.evidence.written", mid=mid, path=output, n=len(bundle.receipts),
            index=bundle.accepted.index)
        + (say("cli.evidence.key_disclosed") if bundle.disclosure else "")
        + (say("cli.evidence.attachment_files", n=len(bundle.attachments))
           if bundle.attachments else ""),
        markup=False,
    )  # fmt: skip


def _print_report(report: BundleReport) -> None:
    from rich.table import Table

    from pgs_hub.hub import i18n_measures as measures
    from pgs_hub.hub.cli.render import content_lines, kind_name
    from pgs_hub.hub.i18n import resolve
    from pgs_hub.protocols.evidence import strongest_status

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
        table.add_row(
            say("cli.evidence.attachments"), say("cli.evidence.described", n=len(report.uploads))
        )
    for a in report.attachments:
        checked = (
            say("cli.evidence.file_verified")
            if a.content_verified
            else say("cli.evidence.file_absent")
        )
        said = measures.size(a.size, lang)
        table.add_row(
            say("cli.evidence.attachment", name=a.name),
            say("cli.evidence.attachment_file", size=said, sha256=a.sha256, checked=checked),
        )
    out.print(table)
    if report.content is not None:
        content = report.content.model_dump(mode="json", exclude_none=True)
        for line in content_lines(content, lang, 1):
            out.print(line, markup=False)


def _check_tlog_proof(
    path: Path, bundle: bytes, verifier: NoteVerifier, policy: WitnessPolicy | None
) -> None:
    """The tlog-proof file must prove the bundle's own acceptance entry (exit 3 otherwise)."""
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.crypto.tlog_proof import verify_tlog_proof
    from pgs_hub.hub.i18n import resolve, t
    from pgs_hub.protocols.evidence import decode_bundle

    accepted = decode_bundle(bundle).accepted
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(say("cli.error.cannot_read", path=path, reason=exc.strerror))
    try:
        opened, proof, _ = verify_tlog_proof(
            data, log=verifier, policy=policy, entry=accepted.entry, now=int(time.time())
        )
    except CryptoError as exc:
        fail(say("cli.evidence.proof_invalid", code=exc.code, reason=exc), 3)
    if proof.index != accepted.index:
        fail(say("cli.evidence.proof_other_entry"), 3)
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
    from pgs_hub.crypto.b64 import b64u_encode
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.crypto.keys import verify_key_from_jwk
    from pgs_hub.protocols.evidence import EvidenceError, verify_bundle

    verifier = require_log_key(log_key)
    try:
        pinned = verify_key_from_jwk(json.loads(authority.read_text("utf-8")))
    except (OSError, ValueError, CryptoError) as exc:
        fail(say("cli.evidence.authority_unreadable", path=authority, reason=exc))
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        fail(say("cli.error.cannot_read", path=bundle, reason=exc.strerror))
    policy = load_witness_policy(witness_policy)
    try:
        report = verify_bundle(
            data, authority=pinned, log_verifier=verifier, witness_policy=policy,
            now=int(time.time()),
        )  # fmt: skip
    except EvidenceError as exc:
        if exc.code == "evidence.no_quorum":
            from pgs_hub.hub.i18n import resolve, t

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
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.crypto.tlog_proof import verify_tlog_proof
    from pgs_hub.hub.i18n import resolve, t

    verifier = require_log_key(log_key)
    policy = load_witness_policy(witness_policy)
    try:
        data = proof.read_bytes()
    except OSError as exc:
        fail(say("cli.error.cannot_read", path=proof, reason=exc.strerror))
    try:
        opened, parsed, entry = verify_tlog_proof(
            data, log=verifier, policy=policy, now=int(time.time())
        )
    except CryptoError as exc:
        fail(say("cli.evidence.proof_invalid", code=exc.code, reason=exc), 3)
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
