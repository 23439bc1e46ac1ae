"""``pgs init``, ``pgs serve`` and ``pgs db``: set up and run a hub."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import click

from hub.cli.common import fail, out, reported_errors
from hub.errors import ConfigError
from hub.home import (
    AUTHORITY_DIR,
    AUTHORITY_KEY_FILE,
    CONFIG_FILE,
    POLICY_FILE,
    default_home,
    load_config,
    sqlite_url,
    write_home,
)

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
