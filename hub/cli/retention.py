"""``pgs admin certs`` (certificate expiry and renewal warnings) and ``pgs admin purge-bodies``
(retention, once, as the hub's housekeeping does it periodically)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from pgs_hub.hub.cli.common import err, fail, out, reported_errors, say
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import CliContext
from pgs_hub.hub.cli.server import DATABASE_OPTION, HOME_OPTION
from pgs_hub.hub.home import default_home, load_config

DAY = 86400


@click.command()
@click.option(
    "--expiring",
    "days",
    type=click.IntRange(min=0),
    is_flag=False,
    flag_value=30,
    default=None,
    help="Only certificates that expire within DAYS days (30 when no number is given), or have.",
)
@hub_options
@async_command
async def certs(
    days: int | None,
    cli: CliContext,
) -> None:
    """List the participants' current certificates and when they expire; with --expiring, only
    those due for renewal (renew with `pgs admin rotate`). Exits 2 when one is listed as due."""
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.protocols.certificates import read_certificate, verify_certificate
    from pgs_hub.protocols.errors import ProtocolError

    async with cli.client() as hub:
        entries = await hub.directory()
    pinned = hub.authority  # --authority, read once by the client
    now = int(time.time())
    columns = ("participant", "role", "status", "expires", "days_left")
    table = Table(*(say(f"cli.col.{c}") for c in columns))
    due = 0
    for entry in entries:
        raw = entry.certificate
        if not raw or entry.status == "revoked":
            continue
        try:
            certificate = (
                verify_certificate(raw.encode(), pinned).certificate
                if pinned is not None
                else read_certificate(raw.encode())[1]
            )
        except (CryptoError, ProtocolError) as exc:
            err.print(f"[bold red]{entry.id}: the certificate does not verify: {exc}[/]")
            continue
        exp = certificate.exp
        left = None if exp is None else (exp - now) / DAY
        if days is not None and (left is None or left > days):
            continue
        due += days is not None
        when = (
            "never" if exp is None else datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%d %H:%M")
        )
        style = "bold red" if left is not None and left <= 0 else ""
        table.add_row(
            entry.id, entry.role, entry.status, when,
            "-" if left is None else f"[{style}]{left:.0f}[/]" if style else f"{left:.0f}",
        )  # fmt: skip
    if days is not None and not due:
        out.print(say("cli.certs.none_due", days=days), markup=False)
        return
    out.print(table)
    if due:
        err.print(say("cli.certs.due", due=due, days=days), markup=False)
        raise SystemExit(2)


@click.command("purge-bodies")
@HOME_OPTION
@DATABASE_OPTION
@click.option(
    "--days",
    type=click.FloatRange(min=0),
    help="Retention period (default: [retention] delivered_body_days in config.toml).",
)
def purge_bodies(home: Path | None, database_url: str | None, days: float | None) -> None:
    """Remove now the bodies of delivered envelopes past the retention period (the running hub
    does the same every housekeeping round). Metadata and the audit log are kept."""
    from pgs_hub.hub.services.database import open_engine
    from pgs_hub.hub.services.retention import purge_delivered_bodies

    home = home or default_home()
    with reported_errors():
        config = load_config(home, database_url=database_url)
    period = days if days is not None else config.retention_days
    if period is None:
        fail(say("cli.purge.no_period"))

    async def run() -> int:
        engine = open_engine(config.database_url)
        try:
            return await purge_delivered_bodies(engine, period, int(time.time()))
        finally:
            await engine.dispose()

    out.print(say("cli.purge.done", n=asyncio.run(run())), markup=False)
