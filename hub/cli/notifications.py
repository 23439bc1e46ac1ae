"""``pgs notifications show/set`` (a participant's own settings) and ``pgs notifications
deliveries`` (auditors: the record of every delivery attempt, metadata only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from pydantic import ValidationError

from pgs_hub.hub.cli.common import fail, out, say
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import CliContext
from pgs_hub.hub.cli.errors import LANG_OPTION
from pgs_hub.hub.i18n import LANGS
from pgs_hub.protocols import api


@click.group()
def notifications() -> None:
    """Be told that a message awaits, by e-mail or webhook (never its subject or content)."""


def _describe(doc: api.NotificationSettings, who: str) -> str:
    none = say("notify.settings.none")
    digest = doc.digest_minutes
    pace = say("notify.settings.digest", n=digest) if digest else say("notify.settings.every")
    quiet = doc.quiet_hours
    quiet_text = (
        say("notify.settings.quiet", start=quiet.start, end=quiet.end, tz=doc.timezone)
        if quiet
        else say("notify.settings.no_quiet")
    )
    return say(
        "notify.settings.show",
        who=who,
        email=doc.email or none,
        webhook=doc.webhook or none,
        language=doc.language,
        details=say("notify.settings.yes") if doc.details else say("notify.settings.no"),
        pace=pace,
        quiet=quiet_text,
    )


@notifications.command()
@click.option("--json", "as_json", is_flag=True)
@LANG_OPTION
@hub_options
@async_command
async def show(
    as_json: bool,
    cli: CliContext,
) -> None:
    """Show your notification settings (and the key the hub signs webhooks with)."""
    async with cli.client() as hub:
        doc = await hub.notification_settings()
        who = hub.me.id if hub.me else ""
    if as_json:
        out.print(json.dumps(doc.wire()), markup=False)
        return
    out.print(_describe(doc, who), markup=False)
    out.print(say("notify.settings.key", public=doc.webhook_public_key), markup=False)


def _quiet(value: str) -> dict[str, str] | None:
    if value.lower() in {"off", "none", ""}:
        return None
    start, sep, end = value.partition("-")
    if not sep or len(start) != 5 or len(end) != 5:
        fail(say("notify.settings.bad_quiet"))
    return {"start": start, "end": end}


@notifications.command("set")
@click.option("--email", help="Where to send e-mail notifications ('' turns them off).")
@click.option("--webhook", help="An http(s) URL for signed webhooks ('' turns them off).")
@click.option("--language", type=click.Choice(LANGS), help="Language of the e-mail.")
@click.option(
    "--details/--no-details",
    default=None,
    help="Add the sender's country and the message kind (never more).",
)
@click.option(
    "--digest-minutes",
    type=click.IntRange(0, 10080),
    help="At most one notification every N minutes (0: one per arrival).",
)
@click.option("--quiet", help="Quiet hours HH:MM-HH:MM in your timezone, or 'off'.")
@click.option("--timezone", help="Your IANA time zone, e.g. Africa/Lagos.")
@LANG_OPTION
@hub_options
@async_command
async def set_(
    email: str | None,
    webhook: str | None,
    language: str | None,
    details: bool | None,
    digest_minutes: int | None,
    quiet: str | None,
    timezone: str | None,
    cli: CliContext,
) -> None:
    """Change your notification settings; what you leave out stays as it is."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("email", email), ("webhook", webhook), ("language", language),
            ("details", details), ("digest_minutes", digest_minutes), ("timezone", timezone),
        )
        if value is not None
    }  # fmt: skip
    if quiet is not None:
        changes["quiet_hours"] = _quiet(quiet)
    if not changes:
        fail(say("notify.settings.nothing"))
    try:
        request = api.NotificationSettingsChange.model_validate(changes)
    except ValidationError as exc:
        problem = exc.errors()[0]
        fail(
            f"--{'-'.join(str(p) for p in problem['loc'][:1]).replace('_', '-')}: {problem['msg']}"
        )
    async with cli.client() as hub:
        doc = await hub.set_notification_settings(request)
        who = hub.me.id if hub.me else ""
    out.print(say("notify.settings.saved", who=who), markup=False)
    out.print(_describe(doc, who), markup=False)


@notifications.command()
@click.option("--after", type=int, default=0, show_default=True, help="Cursor to start after.")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--participant", help="Only this participant's deliveries.")
@click.option("--json", "as_json", is_flag=True)
@LANG_OPTION
@hub_options
@async_command
async def deliveries(
    after: int,
    limit: int,
    participant: str | None,
    as_json: bool,
    cli: CliContext,
) -> None:
    """Auditors: every notification delivery attempt (who, channel, when, attempt, outcome,
    HTTP status or SMTP code), never an address or a content."""
    async with cli.client() as hub:
        page = await hub.notification_deliveries(after, limit, participant)
    if as_json:
        out.print(json.dumps(page.wire()), markup=False)
        return
    if not page.items:
        out.print(say("notify.deliveries.none", after=after), markup=False)
        return
    for item in page.items:
        when = datetime.fromtimestamp(item.at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        code = item.http_status or item.smtp_code or item.error or ""
        out.print(
            f"{item.seq}  {when}  {item.participant_id}  {item.channel}  "
            f"#{item.attempt}  {item.outcome}  {code}".rstrip(),
            markup=False,
        )
    out.print(say("cli.notify.next", cursor=page.next), markup=False)
