"""Run the Alembic migrations in ``migrations/`` from the hub (``pgs db upgrade``), and check at
start-up that the database is at the revision this code needs.

No ``alembic.ini`` is involved: the script folder is found next to the installed ``migrations``
package, and each command runs inside one transaction of the hub's own engine, so a migration
that fails leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub import migrations
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.storage.engine import create_engine

UPGRADE_HINT = "run `pgs db upgrade`"


def _config() -> Config:
    config = Config()
    folder = str(Path(migrations.__file__).parent)
    # Options go through configparser interpolation: a literal "%" must be doubled.
    config.set_main_option("script_location", folder.replace("%", "%%"))
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest revision this code knows (the one it needs the database to be at)."""
    head = _script().get_current_head()
    if head is None:  # pragma: no cover - the package always ships at least one revision
        raise ConfigError("no database migrations are installed")
    return head


async def _run_command(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    config = _config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        step(config, revision)
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise ConfigError(f"the migration left {len(broken)} broken foreign keys")

    engine = create_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    except CommandError as exc:
        raise ConfigError(f"cannot migrate the database to {revision!r}: {exc}") from exc
    finally:
        await engine.dispose()


def _upgrade(config: Config, revision: str) -> None:
    command.upgrade(config, revision)


def _downgrade(config: Config, revision: str) -> None:
    command.downgrade(config, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest)."""
    await _run_command(url, _upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` (``"base"``: drop everything)."""
    await _run_command(url, _downgrade, revision)


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; ``None`` when it has no hub schema."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_revision_of)
    finally:
        await engine.dispose()


async def check_schema(engine: AsyncEngine) -> None:
    """Raise :class:`ConfigError` unless the database is exactly at :func:`head_revision`."""
    async with engine.connect() as conn:
        current = await conn.run_sync(_revision_of)
    needed = head_revision()
    if current == needed:
        return
    if current is None:
        raise ConfigError(
            f"the database has no hub schema yet but this hub needs revision {needed}: "
            f"{UPGRADE_HINT}"
        )
    known = {script.revision for script in _script().walk_revisions()}
    if current not in known:
        raise ConfigError(
            f"the database schema is at revision {current}, which this hub does not know "
            f"(made by a newer version?); this hub needs {needed}"
        )
    raise ConfigError(
        f"the database schema is at revision {current} but this hub needs {needed}: {UPGRADE_HINT}"
    )
