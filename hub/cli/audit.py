"""``pgs audit``: check the hub's tamper-evident log and read it (docs/audit-log.md).

``key`` prints the log's verifier key from a hub home, for auditors to pin. ``verify`` checks a
fresh signed checkpoint against the pinned key and against the last one this auditor saw, reads
the entries it has not seen and recomputes the tree (or checks inclusion proofs, for a country's
auditor); it names the first bad entry when the log was tampered with. ``log`` and ``export``
read the entries themselves, filtered.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from pgs_hub.hub.cli.common import err, fail, out, say
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import CliContext, require_log_key

# hub.client.log.MAX_PAGE, not imported here: `pgs --help` stays fast (a test checks they agree).
MAX_PAGE = 10_000

if TYPE_CHECKING:
    from pgs_hub.crypto.note import NoteVerifier
    from pgs_hub.hub.client import HubClient

DEFAULT_STATE = Path("~/.pgs/audit-state.json")
EXIT_LOG_INVALID = 3  # the log does not verify (distinct from 1: could not run the check)
EVENTS = (
    "envelope.accepted",
    "receipt.recorded",
    "access.denied",
    "participant.enrolled",
    "keys.rotated",
    "participant.suspended",
    "participant.active",
    "participant.revoked",
    "policy.reloaded",
)


def pinned(hub: HubClient) -> NoteVerifier:
    """The log key given with the shared ``--log-key`` option (required by these commands)."""
    return hub.log_key if hub.log_key is not None else require_log_key(None)


@click.group()
def audit() -> None:
    """Verify the hub's tamper-evident audit log, and read it (auditors)."""


@audit.command("key")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Hub home folder (default: $PGS_HOME, else ./pgs-home).",
)
def key(home: Path | None) -> None:
    """Print the log's verifier key (from HOME/config.toml, [log] verifier_key) for auditors to
    pin: the C2SP signed-note form that `pgs audit verify --log-key` and Go's sumdb/note accept."""
    import tomllib

    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.crypto.note import parse_verifier_key
    from pgs_hub.hub.home import CONFIG_FILE, default_home

    path = (home or default_home()) / CONFIG_FILE
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        fail(say("cli.error.no_home", path=path))
    except OSError as exc:
        fail(say("cli.error.cannot_read", path=path, reason=exc.strerror))
    except tomllib.TOMLDecodeError as exc:
        fail(say("cli.message.toml", path=path, reason=exc))
    section = doc.get("log")
    value = section.get("verifier_key") if isinstance(section, dict) else None
    if not isinstance(value, str):
        fail(say("cli.audit.no_log_key_in", path=path))
    try:
        parse_verifier_key(value)
    except CryptoError as exc:
        fail(say("cli.audit.bad_log_key_in", code=exc.code, path=path, reason=exc))
    click.echo(value)


# --- verify --------------------------------------------------------------------------------------


@contextmanager
def _progress() -> Iterator[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from pgs_hub.hub.client.audit import ProgressHooks

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task: list[Any] = []

        def start(first: int, end: int) -> None:
            task.append(bar.add_task(f"entries {first}…{max(first, end - 1)}", total=end - first))

        def advance(count: int) -> None:
            if task:
                bar.advance(task[-1], count)

        yield ProgressHooks(start=start, advance=advance, note=err.print)


async def _scope_of(hub: HubClient) -> str | None:
    from pgs_hub.hub.client.audit import auditor_scope

    assert hub.me is not None  # noqa: S101 - hub_options always loads keys
    return auditor_scope(await hub.participant(hub.me.id))


@audit.command("verify")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=str(DEFAULT_STATE),
    show_default=True,
    help="Where this auditor keeps the last checkpoint it verified and its frontier.",
)
@click.option("--full", is_flag=True, help="Read every entry again from index 0.")
@click.option(
    "--page-size",
    type=click.IntRange(1, MAX_PAGE),
    default=MAX_PAGE,
    show_default=True,
    help="Entries asked for per request (the hub may send fewer).",
)
@click.option(
    "--max-entries",
    type=click.IntRange(1, None),
    default=None,
    help="Read at most this many entries, save how far it got and stop (resume later).",
)
@hub_options
@async_command
async def verify(
    state_path: Path,
    full: bool,
    page_size: int,
    max_entries: int | None,
    cli: CliContext,
) -> None:
    """Verify the log: a fresh checkpoint signed by the pinned log key, consistent with the last
    one this auditor verified; the new entries read and the tree recomputed (a global auditor) or
    each entry's inclusion proof checked (a country's auditor). Names the first bad entry of a
    tampered log. Exit status: 0 verified, 3 the log does not verify, 1 the check could not run.
    """
    from pgs_hub.crypto.b64 import b64u_encode
    from pgs_hub.hub.client.audit import AuditFailure, LogStateError, StateFile
    from pgs_hub.hub.client.audit import audit as run_audit
    from pgs_hub.hub.client.log import LogAnswerError

    states = StateFile(state_path.expanduser())
    cli.pinned_log_key()  # a malformed key is refused before a passphrase is asked for
    async with cli.client() as hub:
        verifier = pinned(hub)
        try:
            scope = await _scope_of(hub)
            with _progress() as hooks:
                result = await run_audit(
                    hub, verifier, states, scope=scope, full=full, page_size=page_size,
                    max_entries=max_entries, hooks=hooks, policy=hub.witness_policy,
                )  # fmt: skip
        except AuditFailure as exc:
            if exc.code == "log.no_quorum":
                from pgs_hub.hub.i18n import resolve, t

                reason = str(exc).removeprefix("checkpoint refused: ")
                fail(t("witness.no_quorum", resolve(), code=exc.code, reason=reason), 3)
            fail(say("cli.audit.failed", code=exc.code, reason=exc), EXIT_LOG_INVALID)
        except (LogStateError, LogAnswerError) as exc:
            fail(f"[{exc.code}] {exc}")
    cp = result.checkpoint
    root = b64u_encode(cp.root)[:16]
    out.print(say("cli.audit.checkpoint", origin=cp.origin, size=cp.size, root=root))
    if hub.witness_policy is not None:
        from pgs_hub.crypto.witness import open_cosigned
        from pgs_hub.hub.i18n import resolve, t

        opened = open_cosigned(
            result.note.encode("utf-8"), [verifier], hub.witness_policy.cosigners
        )
        names = ", ".join(sorted(opened.cosigned))
        out.print(t("witness.quorum_ok", resolve(), names=names), markup=False)
    if result.previous_size is None:
        out.print(say("cli.audit.first"))
    else:
        out.print(say("cli.audit.consistent", size=result.previous_size))
    if result.resumed:
        out.print(say("cli.audit.resuming", start=result.start))
    read = result.end - result.start
    if scope is None:
        out.print(say("cli.audit.read", n=read, start=result.start, end=result.end))
    else:
        out.print(
            say("cli.audit.read_scoped", n=read, start=result.start, end=result.end,
                received=result.received, scope=scope)
        )  # fmt: skip
    if result.paused:
        out.print(say("cli.audit.paused", end=result.end, size=cp.size))
        return
    if scope is None:
        out.print(say("cli.audit.root", size=cp.size))
    out.print(say("cli.audit.verified", path=states.path), markup=False)


# --- log and export ------------------------------------------------------------------------------


def _moment(text: str | None, *, end: bool) -> int | None:
    """ISO date or date-time to epoch seconds; a bare date ends at the end of that day (UTC)."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return int((start + timedelta(days=1 if end else 0)).timestamp())
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def filter_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--country", help="Only entries involving this country (e.g. NG)."),
            click.option(
                "--participant", help="Only entries naming this participant (actor, sender, …)."
            ),
            click.option("--kind", help="Only messages of this kind (alert, seizure, …)."),
            click.option(
                "--event", "events", multiple=True, type=click.Choice(EVENTS), help="Repeatable."
            ),
            click.option("--since", help="From this ISO date or date-time (UTC unless given)."),
            click.option("--until", help="Up to this ISO date (inclusive) or date-time."),
        ]
    ):
        func = option(func)
    return func


class _Filter:
    def __init__(
        self,
        country: str | None,
        participant: str | None,
        kind: str | None,
        events: tuple[str, ...],
        since: str | None,
        until: str | None,
    ) -> None:
        self.country = country.upper() if country else None
        self.participant = participant
        self.kind = kind
        self.events = set(events)
        self.since = _moment(since, end=False)
        self.until = _moment(until, end=True)

    def __call__(self, doc: dict[str, Any]) -> bool:
        details = doc.get("details") or {}
        at = int(doc.get("at") or 0)
        named = {doc.get("actor"), doc.get("subject"), details.get("sender")}
        named |= set(details.get("recipients") or [])
        return all(
            (
                self.since is None or at >= self.since,
                self.until is None or at < self.until,
                not self.events or doc.get("event") in self.events,
                self.kind is None or details.get("kind") == self.kind,
                self.country is None or self.country in (doc.get("countries") or []),
                self.participant is None or self.participant in named,
            )
        )


async def _matching(hub: HubClient, keep: _Filter, page_size: int = 1000) -> Any:
    """Yield ``(index, entry bytes, decoded)`` of matching entries, page by page."""
    from pgs_hub.hub.client import log as api

    size = (await api.checkpoint(hub)).size  # signed over the newest entries
    async for _, _, found in api.iter_entries(hub, 0, size, page_size):
        for item in found:
            doc = item.decoded()
            if keep(doc):
                yield item.index, item.entry, doc


def _when(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def _summary(doc: dict[str, Any]) -> str:
    from pgs_hub.hub.cli.render import kind_name
    from pgs_hub.hub.i18n import CATALOGUE, resolve

    lang = resolve(None)
    details: dict[str, Any] = doc.get("details") or {}
    event = doc.get("event")
    if event == "envelope.accepted":
        kind = kind_name(str(details.get("kind")), lang)
        return f"{kind} TLP:{details.get('tlp')} → " + ", ".join(details.get("recipients") or [])
    if event == "receipt.recorded":
        status = str(details.get("status"))
        return say(f"cli.value.{status}") if f"cli.value.{status}" in CATALOGUE else status
    if event == "access.denied":
        return f"{details.get('action')}: {details.get('reason')}"
    text = json.dumps(details, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


@audit.command("log")
@filter_options
@click.option("--limit", type=click.IntRange(1, None), default=None, help="Show at most N.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of the decoded entries.")
@hub_options
@async_command
async def log(
    country: str | None,
    participant: str | None,
    kind: str | None,
    events: tuple[str, ...],
    since: str | None,
    until: str | None,
    limit: int | None,
    as_json: bool,
    cli: CliContext,
) -> None:
    """List log entries (what you may see as an auditor), filtered."""
    from rich.table import Table

    keep = _Filter(country, participant, kind, events, since, until)
    shown: list[dict[str, Any]] = []
    cli.pinned_log_key()  # a malformed key is refused before a passphrase is asked for
    async with cli.client() as hub:
        async for _, _, doc in _matching(hub, keep):
            shown.append(doc)
            if limit is not None and len(shown) >= limit:
                break
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    columns = ("time", "event", "actor", "subject", "countries", "details")
    table = Table("#", *(say(f"cli.audit.col.{c}") for c in columns))
    for doc in shown:
        table.add_row(
            str(doc.get("index")),
            _when(int(doc.get("at") or 0)),
            str(doc.get("event")),
            str(doc.get("actor") or say("cli.audit.hub")),
            str(doc.get("subject") or ""),
            " ".join(doc.get("countries") or []),
            _summary(doc),
        )
    out.print(table)
    out.print(say("cli.audit.entries", n=len(shown)))


CSV_COLUMNS = ("index", "time", "at", "event", "actor", "subject", "countries", "details")


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@filter_options
@hub_options
@async_command
async def export(
    fmt: str,
    output: Path | None,
    country: str | None,
    participant: str | None,
    kind: str | None,
    events: tuple[str, ...],
    since: str | None,
    until: str | None,
    cli: CliContext,
) -> None:
    """Export log entries page by page: JSON Lines (each line the exact entry bytes, so leaf
    hashes can be recomputed) or CSV."""
    keep = _Filter(country, participant, kind, events, since, until)
    cli.pinned_log_key()  # a malformed key is refused before a passphrase is asked for
    sink: IO[str] = (
        output.open("w", encoding="utf-8", newline="") if output is not None else sys.stdout
    )
    count = 0
    try:
        writer = csv.writer(sink) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(CSV_COLUMNS)
        async with cli.client() as hub:
            async for index, raw, doc in _matching(hub, keep):
                if writer is None:
                    sink.write(raw.decode("utf-8") + "\n")
                else:
                    writer.writerow(
                        [
                            index,
                            _when(int(doc.get("at") or 0)),
                            doc.get("at"),
                            doc.get("event"),
                            doc.get("actor") or "",
                            doc.get("subject") or "",
                            " ".join(doc.get("countries") or []),
                            json.dumps(doc.get("details"), separators=(",", ":"), sort_keys=True),
                        ]
                    )
                count += 1
                if count % 1000 == 0:
                    sink.flush()
        sink.flush()
    finally:
        if output is not None:
            sink.close()
    if output is not None:
        out.print(say("cli.audit.exported", count=count, output=output), markup=False)


@audit.command("events")
@click.option(
    "--since", default=None, help="From this day or time (UTC, ISO 8601); default: the last 24 h."
)
@click.option("--json", "as_json", is_flag=True, help="The hub's JSON answer as it came.")
@hub_options
@async_command
async def events(
    since: str | None,
    as_json: bool,
    cli: CliContext,
) -> None:
    """Security events: refusals (failed authentication, denied access, rate limits, replays,
    malformed requests) counted per actor, reason and minute. Country auditors see their
    country's participants only."""
    from rich.table import Table

    query: dict[str, int] = {}
    start = _moment(since, end=False)
    if start is not None:
        query["since"] = start
    async with cli.client() as hub:
        doc = await hub.security_events(query.get("since"))
    if as_json:
        click.echo(json.dumps(doc.wire(), ensure_ascii=False))
        return
    columns = ("minute", "actor", "country", "reason", "action", "count", "last")
    table = Table(*(say(f"cli.audit.col.{c}") for c in columns))
    for row in doc.events:
        table.add_row(
            _when(row.window_start),
            row.actor,
            row.country or "",
            row.code,
            row.action,
            str(row.count),
            _when(row.last_at),
        )
    out.print(table)
    total = sum(row.count for row in doc.events)
    if doc.scope:
        out.print(
            say("cli.audit.refusals_scoped", rows=len(doc.events), total=total, country=doc.scope)
        )
    else:
        out.print(say("cli.audit.refusals", rows=len(doc.events), total=total))
