"""``pgs witness``: run a C2SP tlog-witness for a hub's log on a member administration's own
machine (docs/audit-log.md). ``init`` makes its key and config, ``key`` prints its verifier key
(for the hub's ``[witnessing]`` list and for the readers' witness policies), ``serve`` runs it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from pgs_hub.hub.cli.common import fail, out, server_tls
from pgs_hub.hub.cli.errors import report
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.i18n import resolve, t

HOME_ENV = "PGS_WITNESS_HOME"
HOME_OPTION = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"The witness's folder (default: ${HOME_ENV}, else ./pgs-witness).",
)


def _home(home: Path | None) -> Path:
    return home or Path(os.environ.get(HOME_ENV) or "pgs-witness")


@click.group()
def witness() -> None:
    """Cosign a hub's checkpoints as an independent witness (member administrations)."""


@witness.command("init")
@HOME_OPTION
@click.option("--name", required=True, help="The witness's key name, e.g. witness.gh.example.")
@click.option(
    "--log-key",
    "log_keys",
    multiple=True,
    help="A log to cosign: its verifier key (`pgs audit key` on the hub). Repeat for several.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=7380, show_default=True)
def init(home: Path | None, name: str, log_keys: tuple[str, ...], port: int) -> None:
    """Create the witness's Ed25519 key and its witness.toml in HOME."""
    from pgs_hub.hub.witness.home import CONFIG_FILE, init_home

    folder = _home(home)
    lang = resolve()
    try:
        cosigner = init_home(folder, name, list(log_keys), port=port)
    except ConfigError as exc:
        report(exc)  # translated where the catalog knows the code
    out.print(t("witness.created", lang, home=folder, config=CONFIG_FILE), markup=False)
    out.print(t("witness.key_is", lang), markup=False)
    click.echo(cosigner.verifier.encode())


@witness.command("key")
@HOME_OPTION
def key(home: Path | None) -> None:
    """Print the witness's verifier key (name+hash+base64, type 0x04) to pin in policies."""
    from pgs_hub.hub.witness.home import load_config, load_cosigner

    try:
        cosigner = load_cosigner(load_config(_home(home)))
    except ConfigError as exc:
        report(exc)  # translated where the catalog knows the code
    click.echo(cosigner.verifier.encode())


@witness.command("serve")
@HOME_OPTION
@click.option("--host", help="Address to listen on (default: from witness.toml).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: from witness.toml).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def serve(
    home: Path | None,
    host: str | None,
    port: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Run the witness (POST /add-checkpoint) until Ctrl-C or SIGTERM; with --tls-cert and
    --tls-key over HTTPS (or behind a reverse proxy or a c2sp.org/https-bastion)."""
    import fcntl

    from aiohttp import web

    from pgs_hub.hub.witness.home import load_config
    from pgs_hub.hub.witness.server import create_app

    folder = _home(home)
    lang = resolve()
    try:
        config = load_config(folder)
        app = create_app(config)
    except ConfigError as exc:
        report(exc)  # translated where the catalog knows the code
    lock = (folder / "witness.lock").open("w")
    try:  # one process per home: its state must never be advanced by two at once
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fail(t("witness.busy", lang, home=folder))
    context = server_tls(tls_cert, tls_key)
    scheme = "https" if context else "http"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    listen_host = host or config.host
    listen_port = config.port if port is None else port
    url = f"{scheme}://{listen_host}:{listen_port}"
    web.run_app(
        app,
        host=listen_host,
        port=listen_port,
        ssl_context=context,
        access_log=None,
        print=lambda _: out.print(
            t("witness.listening", lang, name=config.name, url=url), markup=False
        ),
    )


@witness.command("evidence")
@HOME_OPTION
def evidence(home: Path | None) -> None:
    """Print the checkpoints this witness refused because they contradict one it cosigned (a
    forked log): each is signed by the log itself, so anyone can check it with the log key."""
    import asyncio

    from pgs_hub.hub.witness.home import load_config
    from pgs_hub.hub.witness.store import WitnessStore

    try:
        config = load_config(_home(home))
    except ConfigError as exc:
        report(exc)  # translated where the catalog knows the code

    async def read() -> list[tuple[str, str, bytes]]:
        store = await WitnessStore.open(config.state_path)
        try:
            return await store.evidence()
        finally:
            await store.close()

    for origin, reason, note in asyncio.run(read()):
        click.echo(f"# {origin} {reason}")
        click.echo(note.decode("utf-8", "replace"), nl=False)
