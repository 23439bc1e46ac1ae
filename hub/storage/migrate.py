"""Run the Alembic migrations in ``migrations/`` from the hub (``pgs db upgrade``). Which revision
a database is at, and whether it is the one this code needs, is :mod:`hub.storage.revision`'s
(read without loading Alembic, at every start of the hub).

No ``alembic.ini`` is involved: the script folder is found next to the installed ``migrations``
package, and each command runs inside one transaction of the hub's own engine, so a migration
that fails leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from pgs_hub import migrations
from pgs_hub.hub.errors import config_error
from pgs_hub.hub.storage.engine import create_engine


def _config() -> Config:
    config = Config()
    folder = str(Path(migrations.__file__).parent)
    # Options go through configparser interpolation: a literal "%" must be doubled.
    config.set_main_option("script_location", folder.replace("%", "%%"))
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def known_revisions() -> set[str]:
    """Every revision this code has a migration for."""
    return {script.revision for script in _script().walk_revisions()}


async def _run_command(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    config = _config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        step(config, revision)
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise config_error("config.database.broken_keys", count=len(broken))

    engine = create_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    except CommandError as exc:
        raise config_error("config.database.migrate", revision=revision, reason=exc) from exc
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
