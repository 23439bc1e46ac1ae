"""``pgs send``, ``inbox``, ``read``, ``ack``, ``watch`` and ``directory``: a participant's work."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub.cli.common import out, reported_errors, say
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import CliContext
from pgs_hub.hub.cli.errors import LANG_OPTION, check_participant_ids
from pgs_hub.hub.cli.messages import MAX_INPUT_BYTES, SENDABLE
from pgs_hub.hub.cli.templates import refuse_placeholders
from pgs_hub.hub.i18n import resolve, t
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.messages.registry import parse_message

if TYPE_CHECKING:
    from pgs_hub.protocols.api import Acceptance
    from pgs_hub.protocols.envelope import SealedMessage


def _when(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch)) if epoch else ""


@click.command()
@click.argument("message", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--kind", type=click.Choice(SENDABLE), required=True, help="Message kind.")
@click.option("--to", "to", multiple=True, metavar="PARTICIPANT", help="Recipient; repeatable.")
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="CC",
    help="Every NCP of a country; repeatable.",
)
@click.option("--group", help="A group (ALL, a WCO region such as WCA, or a named group).")
@click.option(
    "--tlp", type=click.Choice([t.value for t in Tlp]), default="AMBER", show_default=True
)
@click.option("--in-reply-to", help="Message id this answers.")
@click.option("--thread", help="Thread (first message id).")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Send a file with the message, encrypted end to end (resumable upload); repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the acceptance as JSON.")
@hub_options
@async_command
async def send(
    message: Path,
    kind: str,
    to: tuple[str, ...],
    countries: tuple[str, ...],
    group: str | None,
    tlp: str,
    in_reply_to: str | None,
    thread: str | None,
    attachments: tuple[Path, ...],
    as_json: bool,
    cli: CliContext,
) -> None:
    """Encrypt MESSAGE (JSON content of a KIND message) to participants, countries or a group,
    sign it and submit it. Recipients' keys are verified against the pinned authority key."""
    with reported_errors():
        doc = json.loads(message.read_bytes()[:MAX_INPUT_BYTES])
        refuse_placeholders(doc)
        check_participant_ids(to)
        content = parse_message(MessageKind(kind), doc)
    async with cli.client() as hub:
        recipients = list(to)
        if countries:
            wanted = set(countries)
            recipients += [
                e.id
                for e in await hub.directory()
                if e.country in wanted and e.role == "ncp" and e.status == "active"
            ]
        if not recipients and group is None:
            raise click.UsageError(say("cli.error.recipients"))

        async def seal_and_send(
            doc: dict[str, Any], uploads: list[str]
        ) -> tuple[SealedMessage, Acceptance]:
            with reported_errors():
                final = parse_message(MessageKind(kind), doc) if uploads else content
            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), console=out, transient=True
            ) as bar:
                bar.add_task(say("cli.send.progress"))
                return await hub.send(
                    kind=MessageKind(kind),
                    content=final,
                    to=recipients,
                    group=group,
                    tlp=Tlp(tlp),
                    in_reply_to=in_reply_to,
                    thread=thread,
                    attachments=uploads,
                )

        if attachments:
            from pgs_hub.hub.cli.attachments import send_with_attachments

            sealed, accepted = await send_with_attachments(
                hub, doc, attachments, seal_and_send, cli.key_folder
            )
        else:
            sealed, accepted = await seal_and_send(doc, [])
    if as_json:
        out.print(json.dumps(accepted.wire()), markup=False)
        return
    size = measures.size(len(sealed.raw), resolve(None))
    out.print(say("cli.send.accepted", kind=kind, mid=sealed.header.mid, size=size))
    out.print(say("cli.send.to", to=", ".join(accepted.recipients)), markup=False)
    if sealed.header.att:
        out.print(f"  with {len(sealed.header.att)} encrypted attachment(s)")


@click.command()
@click.option("--after", type=int, default=0, show_default=True, help="Cursor to start after.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--full-ids", is_flag=True, help="Show whole message ids, not short ones.")
@click.option(
    "--subjects/--no-subjects",
    default=True,
    show_default=True,
    help="Decrypt each message on this machine to show its subject.",
)
@LANG_OPTION
@hub_options
@async_command
async def inbox(
    after: int,
    limit: int,
    as_json: bool,
    full_ids: bool,
    subjects: bool,
    cli: CliContext,
) -> None:
    """List what is waiting for you: envelopes addressed to you and receipts for what you sent.

    Each message shows its subject (decrypted here, never by the hub), whether you have read it
    with `pgs read` on this machine, and a short id that `pgs read`, `pgs ack` and
    `pgs evidence get` accept."""
    from pgs_hub.hub.cli.inbox import print_inbox

    async with cli.client() as hub:
        page = await hub.inbox(after, limit)
        if as_json:
            out.print(json.dumps(page.wire()), markup=False)
            return
        await print_inbox(hub, page, cli.key_folder, after, full_ids=full_ids, subjects=subjects)


@click.command()
@click.argument("mid")
@click.option("--json", "as_json", is_flag=True, help="Print the header and content as JSON.")
@click.option(
    "--ack/--no-ack", default=True, show_default=True, help="Send a signed 'read' receipt."
)
@LANG_OPTION
@click.option(
    "--save-attachments",
    "save_to",
    type=click.Path(file_okay=False, path_type=Path),
    help="Download, verify and decrypt the message's attachments into this folder.",
)
@hub_options
@async_command
async def read(
    mid: str,
    as_json: bool,
    ack: bool,
    save_to: Path | None,
    cli: CliContext,
) -> None:
    """Fetch message MID (its id, or the start of it as `pgs inbox` shows), verify the sender's
    signature and certificate, decrypt it and show it with the names of its codes."""
    from pgs_hub.hub.cli.mailstate import MailboxState, resolve_mid
    from pgs_hub.hub.cli.render import PLACES, render_lines
    from pgs_hub.hub.client.codelists import refresh
    from pgs_hub.protocols.messages.summary import strings_under

    async with cli.client() as hub:
        mid = await resolve_mid(hub, mid)
        with reported_errors():
            opened = await hub.read(mid)
        if not as_json and strings_under(opened.content.model_dump(mode="json"), "locode"):
            # place names, from the whole list kept in the keys folder (loaded only when the
            # message names a place: reading the list takes a second or two)
            PLACES.set(await refresh(hub, cli.key_folder))
        if save_to is not None:
            from pgs_hub.hub.cli.attachments import save_all

            await save_all(hub, opened.content, save_to)
        if ack:
            await hub.ack(mid, ReceiptStatus.READ)
    state = MailboxState.load(cli.key_folder, cli.hub_url)
    state.mark_read(mid)
    state.save()
    header = opened.header
    content = opened.content.model_dump(mode="json", exclude_none=True)
    if as_json:
        out.print(
            json.dumps({"header": header.to_wire(), "content": content}, ensure_ascii=False),
            markup=False,
        )
        return
    lang = resolve(None)
    signature = t("cli.read.verified", lang, who=header.sender.id, kid=header.sender.kid)
    for line in render_lines(header, content, lang, signature=signature):
        out.print(line, markup=False)
    if ack:
        out.print("")
        out.print(t("cli.read.acked", lang, who=header.sender.id), markup=False)


@click.command()
@click.argument("mid")
@click.option(
    "--status",
    type=click.Choice([s.value for s in ReceiptStatus]),
    default="delivered",
    show_default=True,
)
@hub_options
@async_command
async def ack(
    mid: str,
    status: str,
    cli: CliContext,
) -> None:
    """Send a signed receipt (delivered or read) for message MID (its id, or the start of it as
    `pgs inbox` shows); the sender receives it."""
    from pgs_hub.hub.cli.mailstate import resolve_mid

    async with cli.client() as hub:
        mid = await resolve_mid(hub, mid)
        await hub.ack(mid, ReceiptStatus(status))
    out.print(say("cli.ack.sent", status=status, mid=mid), markup=False)


@click.command()
@click.option(
    "--after",
    type=int,
    default=None,
    help="Cursor to resume after (default: where the last `pgs watch` with these keys stopped).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--count", type=int, default=0, help="Stop after this many items (0: never).")
@hub_options
@async_command
async def watch(
    after: int | None,
    as_json: bool,
    count: int,
    cli: CliContext,
) -> None:
    """Stream new envelopes and receipts live; reconnects by itself and resumes where it was.

    The cursor is remembered in the keys folder (mailbox-state.json, per hub URL), so the next
    `pgs watch` starts after the last item this one showed."""
    from pgs_hub.hub.cli.mailstate import MailboxState

    seen = 0
    state = MailboxState.load(cli.key_folder, cli.hub_url)
    if after is None:
        after = state.cursor
        if after and not as_json:
            click.echo(say("cli.watch.resume", cursor=after, path=state.path), err=True)
    async with cli.client() as hub:
        async for item in hub.stream(after):
            if as_json:
                click.echo(json.dumps(item.wire()))
            elif item.type == "envelope":
                out.print(
                    say("cli.watch.envelope", cursor=item.cursor, kind=item.kind,
                        mid=item.mid, sender=item.sender, tlp=item.tlp),
                    markup=False,
                )  # fmt: skip
            else:
                out.print(
                    say("cli.watch.receipt", cursor=item.cursor, mid=item.mid,
                        status=say(f"cli.value.{item.status}"), by=item.by),
                    markup=False,
                )  # fmt: skip
            state.cursor = max(state.cursor, item.cursor)
            state.save()
            seen += 1
            if count and seen >= count:
                return


@click.command()
@click.option("--group", help="Show the members of a group instead.")
@click.option("--json", "as_json", is_flag=True)
@hub_options
@async_command
async def directory(
    group: str | None,
    as_json: bool,
    cli: CliContext,
) -> None:
    """List participants (country, role, status, key ids), or a group's members."""
    async with cli.client() as hub:
        members = await hub.group(group) if group is not None else []
        entries = await hub.directory() if group is None else []
    if as_json:
        shown = members if group is not None else entries
        out.print(json.dumps([e.wire() for e in shown]), markup=False)
        return
    if group is not None:
        table = Table(
            say("hub.demo.col.participant"), say("cli.dir.enc_kid"),
            title=say("cli.read.group", group=group),
        )  # fmt: skip
        for m in members:
            table.add_row(m.id, m.enc_kid)
    else:
        table = Table(*(say(f"cli.dir.{c}") for c in ("id", "country", "role", "status", "keys")))
        for e in entries:
            current = ", ".join(k.kid[:10] + "…" for k in e.keys if k.state == "current")
            table.add_row(
                e.id, e.country, e.role + (f" ({e.scope})" if e.scope else ""), e.status, current
            )
    out.print(table)
