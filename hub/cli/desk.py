"""``pgs desk``: the officer desk, a local web app for reading, answering and sending messages."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path

import click

from pgs_hub.hub.cli.common import fail, say


@click.command()
@click.option(
    "--keys", "key_folder", type=click.Path(file_okay=False, path_type=Path), envvar="PGS_KEYS",
    required=True, help="Your key folder ($PGS_KEYS).",
)  # fmt: skip
@click.option(
    "--hub", "hub_url", envvar="PGS_HUB_URL", required=True, help="Hub URL ($PGS_HUB_URL)."
)
@click.option(
    "--authority", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="PGS_AUTHORITY_KEY", required=True,
    help="Pinned registry-authority public key, a JWK file ($PGS_AUTHORITY_KEY): senders' and"
    " recipients' keys are trusted only when it certifies them.",
)  # fmt: skip
@click.option(
    "--ca", type=click.Path(dir_okay=False, exists=True, path_type=Path), envvar="PGS_CA_BUNDLE",
    help="CA bundle to verify the hub's TLS certificate ($PGS_CA_BUNDLE).",
)  # fmt: skip
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Local port (0: a free one).")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Print the link without opening a browser.")
def desk(
    key_folder: Path,
    hub_url: str,
    authority: Path,
    ca: Path | None,
    port: int,
    no_browser: bool,
) -> None:
    """Open the officer desk in your browser: inbox, reading, replies, alerts, seizure notices.

    The desk runs on this computer only (127.0.0.1); your keys are unlocked with your passphrase
    on its first page and never leave this computer. Open the printed link (it works once).
    """
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.hub import keystore
    from pgs_hub.hub.cli.errors import check_hub_url
    from pgs_hub.hub.desk import words
    from pgs_hub.hub.desk.app import Desk, serve
    from pgs_hub.hub.desk.hubapi import authority_from
    from pgs_hub.hub.desk.i18n import translations
    from pgs_hub.hub.i18n import resolve

    _ = translations(resolve()).gettext

    check_hub_url(hub_url)
    if not key_folder.is_dir():
        fail(say("cli.keys.missing", folder=key_folder))
    try:
        keystore.participant_id(key_folder)
        pinned = authority_from(authority)
    except keystore.KeyStoreError as exc:
        fail(str(exc))
    except (ValueError, OSError, CryptoError) as exc:
        fail(_(words.CLI_NOT_AUTHORITY).format(path=authority, reason=exc))
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
    state = Desk(keys=key_folder, hub_url=hub_url, authority=pinned, ssl_context=context)

    def announce(url: str) -> None:
        click.echo(url)
        click.echo(_(words.CLI_OPEN_LINK), err=True)

    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve(state, port=port, open_browser=not no_browser, announce=announce))
        except OSError as exc:
            fail(_(words.CLI_CANNOT_LISTEN).format(port=port, reason=exc.strerror))
