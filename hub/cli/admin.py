"""``pgs admin``: certify and enrol participants, rotate keys, suspend, reinstate, revoke, inspect
groups and check a policy file. Certificates are signed with the registry-authority key from the
hub home (``--home``); the running hub only verifies them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from pgs_hub.hub.cli.common import out, reported_errors, say
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import CliContext
from pgs_hub.hub.cli.server import HOME_OPTION
from pgs_hub.hub.home import default_home, load_authority
from pgs_hub.hub.keystore import load_public

if TYPE_CHECKING:
    from pgs_hub.protocols.api import StatusAction

ROLES = ["ncp", "wco", "auditor", "admin"]


@click.group()
def admin() -> None:
    """Administer participants and policy (needs an admin participant's keys)."""


VALID_DAYS_OPTION = click.option(
    "--valid-days",
    type=click.FloatRange(min=0, min_open=True),
    default=365.0,
    show_default=True,
    help="The certificate expires this many days from now (renew with `pgs admin rotate`).",
)


def _certificate(
    home: Path | None,
    participant: str,
    role: str,
    scope: str | None,
    public_keys: Path,
    valid_days: float | None = None,
) -> bytes:
    from pgs_hub.hub.enrolment import certify

    public = load_public(public_keys, participant)
    authority = load_authority(home or default_home())
    return certify(
        authority,
        participant,
        role=role,
        scope=scope,
        verify=public.verify,
        encrypt=public.encrypt,
        now=int(time.time()),
        valid_days=valid_days,
    )


@admin.command()
@click.argument("participant")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--scope", metavar="CC", help="For a country-scoped auditor: its country.")
@click.option(
    "--public-keys",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The participant's public.jwks.json (from `pgs keygen`).",
)
@VALID_DAYS_OPTION
@HOME_OPTION
@hub_options
@async_command
async def enrol(
    participant: str,
    role: str,
    scope: str | None,
    public_keys: Path,
    valid_days: float,
    home: Path | None,
    cli: CliContext,
) -> None:
    """Certify PARTICIPANT's public keys with the registry authority and enrol it on the hub."""
    with reported_errors():
        certificate = _certificate(home, participant, role, scope, public_keys, valid_days)
    async with cli.client() as hub:
        result = await hub.enrol(certificate)
    role_name = say(f"console.role.{role}")
    out.print(say("cli.admin.enrolled", id=result.id, role=role_name, serial=result.serial))


@admin.command()
@click.argument("participant")
@click.option(
    "--public-keys",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The participant's NEW public.jwks.json.",
)
@VALID_DAYS_OPTION
@HOME_OPTION
@hub_options
@async_command
async def rotate(
    participant: str,
    public_keys: Path,
    valid_days: float,
    home: Path | None,
    cli: CliContext,
) -> None:
    """Certify and install PARTICIPANT's new keys. The old signing key stops working at once; the
    old encryption key is kept as 'retired' so old messages still open."""
    async with cli.client() as hub:
        entry = await hub.participant(participant)
        with reported_errors():
            certificate = _certificate(
                home, participant, entry.role, entry.scope, public_keys, valid_days
            )
        result = await hub.rotate(participant, certificate)
    out.print(say("cli.admin.rotated", id=result.id, serial=result.serial))


def _status_command(action: StatusAction, help_text: str) -> click.Command:
    @click.command(name=action, help=help_text)
    @click.argument("participant")
    @hub_options
    @async_command
    async def command(
        participant: str,
        cli: CliContext,
    ) -> None:
        async with cli.client() as hub:
            result = await hub.set_status(participant, action)
        out.print(f"{result.id} is now {result.status}")

    return command


admin.add_command(
    _status_command("suspend", "Suspend PARTICIPANT: refused everything until reinstated.")
)
admin.add_command(_status_command("reinstate", "Lift a suspension of PARTICIPANT."))
admin.add_command(_status_command("revoke", "Revoke PARTICIPANT and its keys for good."))


@admin.command()
@click.argument("name", required=False)
@hub_options
@async_command
async def groups(
    name: str | None,
    cli: CliContext,
) -> None:
    """List the groups, or the current members of group NAME."""
    async with cli.client() as hub:
        if name is None:
            for group in await hub.groups():
                out.print(group)
            return
        members = await hub.group(name)
    table = Table(
        say("cli.col.participant"),
        say("cli.col.enc_kid"),
        title=say("cli.admin.group_title", name=name, n=len(members)),
    )
    for member in members:
        table.add_row(member.id, member.enc_kid)
    out.print(table)


@admin.command("policy-check")
@click.argument("policy_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def policy_check(policy_file: Path) -> None:
    """Check a policy file (TOML) before installing it; prints a summary or the first error."""
    from pgs_hub.hub.policy.model import load_policy_file

    with reported_errors():
        policy = load_policy_file(policy_file)
    from pgs_hub.hub.i18n import resolve
    from pgs_hub.hub.i18n_measures import size

    none = say("cli.none")
    groups = ", ".join(sorted(policy.groups)) or none
    countries = ", ".join(sorted(policy.suspended_countries)) or none
    largest = size(policy.limits.max_envelope_bytes, resolve(None))
    out.print(say("cli.policy.valid", path=policy_file), markup=False)
    out.print("  " + say("cli.policy.groups", groups=groups), markup=False)
    out.print("  " + say("cli.policy.suspended", countries=countries), markup=False)
    out.print("  " + say("cli.policy.max_envelope", size=largest), markup=False)
