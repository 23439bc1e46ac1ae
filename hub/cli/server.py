"""``pgs init``, ``pgs serve`` and ``pgs db``: set up and run a hub."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import ssl
from importlib import resources
from pathlib import Path

import click

from crypto.keys import SigningKey, load_private_pem, private_pem
from hub.cli.common import fail, out, reported_errors
from hub.errors import ConfigError
from hub.home import (
    AUTHORITY_DIR,
    CONFIG_FILE,
    HUB_KEY_DIR,
    POLICY_FILE,
    default_home,
    load_config,
    sqlite_url,
)

AUTHORITY_KEY_FILE = "authority.key.pem"
AUTHORITY_PUBLIC_FILE = "authority.jwk.json"
AUTHORITY_PASSPHRASE_ENV = "PGS_AUTHORITY_PASSPHRASE"  # noqa: S105 - a variable name

HOME_OPTION = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Hub home folder (default: $PGS_HOME, else ./pgs-home).",
)
DATABASE_OPTION = click.option(
    "--database-url",
    envvar="PGS_DATABASE_URL",
    help="SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db (default: the home's SQLite).",
)


def load_authority(home: Path) -> SigningKey:
    """The registry authority's private key from a demo home (production keeps it offline)."""
    import os

    path = home / AUTHORITY_DIR / AUTHORITY_KEY_FILE
    secret = os.environ.get(AUTHORITY_PASSPHRASE_ENV)
    key = load_private_pem(path.read_bytes(), secret.encode() if secret else None)
    if not isinstance(key, SigningKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return key


def write_home(home: Path, *, port: int) -> SigningKey:
    """Create config, policy, authority key and hub key; returns the authority key."""
    import os

    if (home / CONFIG_FILE).exists():
        raise ConfigError(f"{home} already holds a hub ({CONFIG_FILE} exists)")
    (home / AUTHORITY_DIR).mkdir(parents=True, exist_ok=True)
    (home / HUB_KEY_DIR).mkdir(parents=True, exist_ok=True)
    authority = SigningKey.generate()
    secret = os.environ.get(AUTHORITY_PASSPHRASE_ENV)
    key_path = home / AUTHORITY_DIR / AUTHORITY_KEY_FILE
    key_path.write_bytes(private_pem(authority, secret.encode() if secret else None))
    key_path.chmod(0o600)
    public = authority.public.to_jwk()
    (home / AUTHORITY_DIR / AUTHORITY_PUBLIC_FILE).write_text(json.dumps(public, indent=2) + "\n")
    default_policy = resources.files("hub.policy").joinpath("default.toml").read_text("utf-8")
    (home / POLICY_FILE).write_text(default_policy, encoding="utf-8")
    jwk_inline = ", ".join(f'{k} = "{v}"' for k, v in public.items())
    (home / CONFIG_FILE).write_text(
        "# Global Shield Hub configuration. Paths are relative to this folder.\n"
        "[hub]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        '# database_url = "postgresql+asyncpg://pgs@db.example/pgs"  # default: hub.db here\n'
        '# tls_cert = "tls/hub.crt"\n'
        '# tls_key = "tls/hub.key"\n'
        f'policy = "{POLICY_FILE}"\n'
        "\n"
        "# The registry authority (WCO) key that certifies participants. Pinned: the hub and its\n"
        "# clients accept only certificates it signed.\n"
        "[authority]\n"
        f"public_jwk = {{ {jwk_inline} }}\n",
        encoding="utf-8",
    )
    return authority


@click.command()
@click.argument("home", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--port", type=click.IntRange(1, 65535), default=8443, show_default=True)
@click.option(
    "--admin", "admin_id", default="WCO-HUB-ADMIN", show_default=True, help="Id of the first admin."
)
@DATABASE_OPTION
def init(home: Path | None, port: int, admin_id: str, database_url: str | None) -> None:
    """Create a hub home: configuration, policy, registry-authority key, hub key, a migrated
    database and a first admin participant (its keys in HOME/admin/)."""
    from hub.enrolment import bootstrap_admin
    from hub.storage.migrate import upgrade

    home = home or default_home()
    with reported_errors():
        authority = write_home(home, port=port)
        url = database_url or sqlite_url(home)
        asyncio.run(upgrade(url))
        admin_folder = asyncio.run(bootstrap_admin(home, url, authority, admin_id))
    out.print(f"created hub home [bold]{home}[/]")
    out.print(f"  configuration   {home / CONFIG_FILE}")
    out.print(f"  policy          {home / POLICY_FILE}")
    out.print(
        f"  authority key   {home / AUTHORITY_DIR / AUTHORITY_KEY_FILE}"
        "  (keep it offline in production)"
    )
    out.print(f"  admin keys      {admin_folder}")
    out.print(f"start it with:    pgs serve --home {home}")


@click.group()
def db() -> None:
    """Database schema: upgrade to this version's schema, or show the current revision."""


@db.command("upgrade")
@HOME_OPTION
@DATABASE_OPTION
def db_upgrade(home: Path | None, database_url: str | None) -> None:
    """Apply every pending migration."""
    from hub.storage.engine import redact
    from hub.storage.migrate import head_revision, upgrade

    home = home or default_home()
    with reported_errors():
        url = database_url or load_config(home).database_url
        asyncio.run(upgrade(url))
    out.print(f"{redact(url)} is at revision {head_revision()}")


@db.command("current")
@HOME_OPTION
@DATABASE_OPTION
def db_current(home: Path | None, database_url: str | None) -> None:
    """Show the database's schema revision and the one this version needs."""
    from hub.storage.migrate import current_revision, head_revision

    home = home or default_home()
    with reported_errors():
        url = database_url or load_config(home).database_url
        current = asyncio.run(current_revision(url))
    out.print(f"database: {current or 'empty'}; needed: {head_revision()}")


@click.command()
@HOME_OPTION
@click.option("--host", help="Address to listen on (default: from config.toml).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: from config.toml).")
@DATABASE_OPTION
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def serve(
    home: Path | None,
    host: str | None,
    port: int | None,
    database_url: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Run the hub until Ctrl-C or SIGTERM, then stop cleanly (connections closed, database
    flushed). Refuses to start on an outdated database schema."""
    from aiohttp import web

    from hub.server.app import create_app

    home = home or default_home()
    with reported_errors():
        config = load_config(home, database_url=database_url)
    cert = tls_cert or config.tls_cert
    key = tls_key or config.tls_key
    if (cert is None) != (key is None):
        fail("give both --tls-cert and --tls-key, or neither")
    context = None
    if cert is not None and key is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    scheme = "https" if context else "http"
    listen_host = host or config.host
    listen_port = config.port if port is None else port
    try:
        web.run_app(
            create_app(config),
            host=listen_host,
            port=listen_port,
            ssl_context=context,
            shutdown_timeout=10.0,
            access_log=None,
            print=lambda _: out.print(f"hub listening on {scheme}://{listen_host}:{listen_port}"),
        )
    except ConfigError as exc:
        fail(f"[{exc.code}] {exc}")


def copy_default_policy(target: Path) -> None:  # pragma: no cover - used by docs
    shutil.copy(str(resources.files("hub.policy").joinpath("default.toml")), target)
