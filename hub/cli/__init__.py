"""The ``pgs`` command: one click group, one module per family of sub-commands."""

from __future__ import annotations

import click

from hub.cli.admin import admin
from hub.cli.audit import audit
from hub.cli.backup import backup, restore
from hub.cli.console import console
from hub.cli.demo import demo
from hub.cli.desk import desk
from hub.cli.errors import PgsGroup, debug_option, lang_option
from hub.cli.evidence import evidence
from hub.cli.keys import key, keygen
from hub.cli.messages import open_, schema, seal, validate
from hub.cli.metrics import metrics_token
from hub.cli.notifications import notifications
from hub.cli.participant import ack, directory, inbox, read, send, watch
from hub.cli.retention import certs, purge_bodies
from hub.cli.server import db, init, serve
from hub.cli.templates import new
from hub.cli.witness import witness
from hub.i18n import LANGS


@click.group(
    cls=PgsGroup,
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


for command in (
    init, serve, db, admin, send, inbox, read, ack, watch, directory,
    keygen, key, seal, open_, validate, schema, demo, audit, evidence, console, witness, new, desk,
    notifications,
):  # fmt: skip
    main.add_command(command)

admin.add_command(backup)
admin.add_command(restore)
admin.add_command(certs)
admin.add_command(purge_bodies)
admin.add_command(metrics_token)
