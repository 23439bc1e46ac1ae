"""The ``pgs`` command: one click group, one module per family of sub-commands.

The sub-commands are imported when they run, not before: ``pgs --help`` lists them from the table
below without importing a single command module (each pulls in the protocol models, the client
or the server). ``tests/hub/test_cli_lazy.py`` keeps the table equal to the commands' own help.
"""

from __future__ import annotations

import importlib

import click

from pgs_hub.hub.cli.errors import PgsGroup, debug_option, lang_option
from pgs_hub.hub.i18n import LANGS

#: name -> (module, attribute, the command's short help as ``pgs --help`` shows it).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "pgs_hub.hub.cli.server",
        "init",
        "Create a hub home: configuration, policy, registry-authority key, hub keys, "
        "a migrated database and a first admin participant (its keys in HOME/admin/).",
    ),
    "serve": (
        "pgs_hub.hub.cli.server",
        "serve",
        "Run the hub until Ctrl-C or SIGTERM, then stop cleanly (connections closed, "
        "database flushed).",
    ),
    "db": (
        "pgs_hub.hub.cli.server",
        "db",
        "Database schema: upgrade to this version's schema, or show the current revision.",
    ),
    "admin": (
        "pgs_hub.hub.cli.admin",
        "admin",
        "Administer participants and policy (needs an admin participant's keys).",
    ),
    "send": (
        "pgs_hub.hub.cli.participant",
        "send",
        "Encrypt MESSAGE (JSON content of a KIND message) to participants, countries "
        "or a group, sign it and submit it.",
    ),
    "inbox": (
        "pgs_hub.hub.cli.participant",
        "inbox",
        "List what is waiting for you: envelopes addressed to you and receipts for what you sent.",
    ),
    "read": (
        "pgs_hub.hub.cli.participant",
        "read",
        "Fetch message MID (its id, or the start of it as `pgs inbox` shows), verify "
        "the sender's signature and certificate, decrypt it and show it with the "
        "names of its codes.",
    ),
    "ack": (
        "pgs_hub.hub.cli.participant",
        "ack",
        "Send a signed receipt (delivered or read) for message MID (its id, or the "
        "start of it as `pgs inbox` shows); the sender receives it.",
    ),
    "watch": (
        "pgs_hub.hub.cli.participant",
        "watch",
        "Stream new envelopes and receipts live; reconnects by itself and resumes where it was.",
    ),
    "directory": (
        "pgs_hub.hub.cli.participant",
        "directory",
        "List participants (country, role, status, key ids), or a group's members.",
    ),
    "keygen": (
        "pgs_hub.hub.cli.keys",
        "keygen",
        "Create the Ed25519 signing key and X25519 encryption key of PARTICIPANT (e.g.",
    ),
    "key": (
        "pgs_hub.hub.cli.keys",
        "key",
        "Show or export a participant's keys.",
    ),
    "seal": (
        "pgs_hub.hub.cli.messages",
        "seal",
        "Validate MESSAGE (JSON content of a KIND message), encrypt it to every "
        "recipient and sign.",
    ),
    "open": (
        "pgs_hub.hub.cli.messages",
        "open_",
        "Verify the sender's signature on ENVELOPE, decrypt it with your keys and "
        "print the message.",
    ),
    "validate": (
        "pgs_hub.hub.cli.messages",
        "validate",
        "Check that MESSAGE is valid content for a KIND message; list every problem if not.",
    ),
    "schema": (
        "pgs_hub.hub.cli.messages",
        "schema",
        "Print the JSON Schema (draft 2020-12) of a KIND message, or write all with --out.",
    ),
    "demo": (
        "pgs_hub.hub.cli.demo",
        "demo",
        "Run the demo: a real hub on SQLite over loopback sockets; WCO, Nigeria, "
        "Ghana, Cameroon and an auditor exchange an alert, a seizure notice and a "
        "regional notice; Cameroon is refused what is not addressed to it; the "
        "auditor reviews the log.",
    ),
    "audit": (
        "pgs_hub.hub.cli.audit",
        "audit",
        "Verify the hub's tamper-evident audit log, and read it (auditors).",
    ),
    "evidence": (
        "pgs_hub.hub.cli.evidence",
        "evidence",
        "Evidence bundles: prove to a third party what was sent, accepted and acknowledged.",
    ),
    "console": (
        "pgs_hub.hub.cli.console",
        "console",
        "Print a one-time link (valid 2 minutes) that signs you in to the web console.",
    ),
    "witness": (
        "pgs_hub.hub.cli.witness",
        "witness",
        "Cosign a hub's checkpoints as an independent witness (member administrations).",
    ),
    "new": (
        "pgs_hub.hub.cli.templates",
        "new",
        "Write a filled-in KIND message (alert, seizure, rfi, reply or notice) to edit and send.",
    ),
    "desk": (
        "pgs_hub.hub.cli.desk",
        "desk",
        "Open the officer desk in your browser: inbox, reading, replies, alerts, seizure notices.",
    ),
    "notifications": (
        "pgs_hub.hub.cli.notifications",
        "notifications",
        "Be told that a message awaits, by e-mail or webhook (never its subject or content).",
    ),
}
#: Sub-commands of ``pgs admin`` that live in other modules (module, attribute).
ADMIN_EXTRAS: tuple[tuple[str, str], ...] = (
    ("pgs_hub.hub.cli.backup", "backup"),
    ("pgs_hub.hub.cli.backup", "restore"),
    ("pgs_hub.hub.cli.retention", "certs"),
    ("pgs_hub.hub.cli.retention", "purge_bodies"),
    ("pgs_hub.hub.cli.metrics", "metrics_token"),
    ("pgs_hub.hub.cli.codelists", "codelists"),
)


def load_command(name: str) -> click.Command:
    """Import sub-command ``name`` (and, for ``admin``, the sub-commands other modules add)."""
    module, attribute, _ = COMMANDS[name]
    command: click.Command = getattr(importlib.import_module(module), attribute)
    if name == "admin" and isinstance(command, click.Group):
        for extra_module, extra in ADMIN_EXTRAS:
            sub: click.Command = getattr(importlib.import_module(extra_module), extra)
            if sub.name not in command.commands:
                command.add_command(sub)
    return command


class LazyGroup(PgsGroup):
    """The ``pgs`` group: commands imported on first use, listed from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="pgs-hub", prog_name="pgs")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=debug_option,
    help="Print the traceback of an internal error ($PGS_DEBUG=1).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    expose_value=False,
    is_eager=True,
    callback=lang_option,
    help="Language of what pgs prints (default: $PGS_LANG, then the locale).",
)
def main() -> None:
    """Global Shield Hub: signed, end-to-end encrypted exchange of PGS alerts and notices.

    Start with `pgs demo`, or `pgs keygen PARTICIPANT` to create your keys.
    """
