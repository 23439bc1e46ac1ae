"""``pgs seal``, ``pgs open``, ``pgs validate`` and ``pgs schema``: messages offline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from pgs_hub.crypto.keys import RecipientKey
from pgs_hub.hub import keystore
from pgs_hub.hub.cli.common import (
    DIRECTORY_OPTION,
    KEYS_OPTION,
    fail,
    load_keys,
    out,
    passphrase_option,
    reported_errors,
    say,
)
from pgs_hub.protocols.envelope import open_message, read_header, seal_message, verify_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import all_schemas, json_schema, parse_message

MAX_INPUT_BYTES = 8 * 1024 * 1024
KINDS = [k.value for k in MessageKind]
SENDABLE = [k.value for k in MessageKind if k is not MessageKind.RECEIPT]


def _read_input(path: Path) -> bytes:
    with path.open("rb") as f:
        data = f.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        from pgs_hub.hub.i18n import resolve
        from pgs_hub.hub.i18n_measures import size

        fail(say("cli.error.input_too_large", path=path, cap=size(MAX_INPUT_BYTES, resolve(None))))
    return data


@click.command()
@click.argument("message", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--kind", type=click.Choice(SENDABLE), required=True, help="Message kind.")
@click.option(
    "--to",
    "recipients",
    multiple=True,
    required=True,
    metavar="PARTICIPANT",
    help="A recipient participant id; repeat for each recipient.",
)
@click.option(
    "--tlp",
    type=click.Choice([t.value for t in Tlp]),
    default=Tlp.AMBER.value,
    show_default=True,
    help="Traffic Light Protocol 2.0 handling code.",
)
@click.option("--thread", help="Message id of the thread this message belongs to.")
@click.option("--in-reply-to", help="Message id this message answers.")
@click.option(
    "--ttl-days", type=click.IntRange(1, 366), default=30, show_default=True, help="Expiry."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the envelope here (default: standard output).",
)
@KEYS_OPTION
@DIRECTORY_OPTION
@passphrase_option
def seal(
    message: Path,
    kind: str,
    recipients: tuple[str, ...],
    tlp: str,
    thread: str | None,
    in_reply_to: str | None,
    ttl_days: int,
    output: Path | None,
    key_folder: Path,
    directory: Path,
    prompt_passphrase: bool,
) -> None:
    """Validate MESSAGE (JSON content of a KIND message), encrypt it to every recipient and sign.

    Recipients' public keys come from --directory; the envelope (JWS JSON wrapping a JWE) is what
    you submit to the hub or hand to a recipient.
    """
    with reported_errors():
        sender = load_keys(key_folder, prompt_passphrase)
        content = parse_message(MessageKind(kind), _read_input(message))
        book = keystore.Directory(directory)
        keys: list[tuple[str, RecipientKey]] = [(p, book.get(p).encrypt) for p in recipients]
        sealed = seal_message(
            sender_id=sender.id,
            signer=sender.signing,
            recipients=keys,
            kind=MessageKind(kind),
            content=content,
            tlp=Tlp(tlp),
            now=int(time.time()),
            ttl_seconds=ttl_days * 24 * 3600,
            thread=thread,
            in_reply_to=in_reply_to,
        )
    if output is None:
        out.print(sealed.raw.decode("utf-8"), markup=False)
    else:
        output.write_bytes(sealed.raw)
        to = ", ".join(recipients)
        click.echo(say("cli.seal.done", kind=kind, mid=sealed.header.mid, to=to, path=output))


@click.command("open")
@click.argument("envelope", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print header and content as JSON.")
@KEYS_OPTION
@DIRECTORY_OPTION
@passphrase_option
def open_(
    envelope: Path, as_json: bool, key_folder: Path, directory: Path, prompt_passphrase: bool
) -> None:
    """Verify the sender's signature on ENVELOPE, decrypt it with your keys and print the message.

    Exits non-zero with a one-line reason if anything is wrong: not addressed to you, altered,
    signed by another key, or content invalid.
    """
    with reported_errors():
        raw = _read_input(envelope)
        me = load_keys(key_folder, prompt_passphrase)
        _, claimed = read_header(raw)
        sender = keystore.Directory(directory).get(claimed.sender.id)
        opened = open_message(verify_message(raw, sender.verify), me.id, me.decryption)
    header = opened.header
    content = opened.content.model_dump(mode="json", by_alias=True, exclude_none=True)
    if as_json:
        doc = {"header": header.to_wire(), "content": content}
        out.print(json.dumps(doc, indent=2, ensure_ascii=False), markup=False)
        return
    from pgs_hub.hub.cli.render import render_lines
    from pgs_hub.hub.i18n import resolve

    lang = resolve(None)
    signature = say("cli.read.verified_local", who=header.sender.id, kid=header.sender.kid)
    for line in render_lines(header, content, lang, signature=signature):
        out.print(line, markup=False)


@click.command()
@click.argument("message", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="Message kind.")
def validate(message: Path, kind: str) -> None:
    """Check that MESSAGE is valid content for a KIND message; list every problem if not."""
    from pgs_hub.hub.cli.templates import refuse_placeholders

    with reported_errors():
        content = parse_message(MessageKind(kind), _read_input(message))
    refuse_placeholders(content.model_dump(mode="json"))
    out.print(say("cli.validate.ok", path=message, kind=kind), markup=False)


@click.command()
@click.argument("kind", type=click.Choice(KINDS), required=False)
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every kind's schema to FOLDER/<kind>.json instead of printing one.",
)
def schema(kind: str | None, folder: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a KIND message, or write all with --out."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, doc in all_schemas().items():
            path = folder / f"{name}.json"
            path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            out.print(say("cli.schema.wrote", path=path), markup=False)
        return
    if kind is None:
        fail(say("cli.error.schema_kind"), code=2)
    out.print(
        json.dumps(json_schema(MessageKind(kind)), indent=2, ensure_ascii=False), markup=False
    )
