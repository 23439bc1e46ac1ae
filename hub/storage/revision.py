"""The schema revision a database is at, and the one this code needs, read without Alembic.

``pgs serve`` checks the revision at every start, and the tests start hundreds of hubs: loading
Alembic and its revision scripts for that took about 0.2 s of each start (the import alone 0.17 s
on a 2-core machine). The newest revision's id is kept in ``pgs_hub.migrations.HEAD`` (a test
checks it against Alembic's own head), and the database's revision is read from Alembic's
``alembic_version`` table with one query. Migrating stays Alembic's (:mod:`hub.storage.migrate`),
loaded only by ``pgs db`` and, for its message, when a database is at a revision other than
the head.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub import migrations
from pgs_hub.hub.errors import config_error
from pgs_hub.hub.storage.engine import create_engine

_VERSION_TABLE: Final = "alembic_version"  # Alembic's, one row: the revision the schema is at
_READ: Final = text("SELECT version_num FROM alembic_version")


def head_revision() -> str:
    """The newest revision this code knows (the one it needs the database to be at)."""
    return migrations.HEAD


def _revision_of(connection: Connection) -> str | None:
    if not inspect(connection).has_table(_VERSION_TABLE):
        return None
    found = connection.execute(_READ).scalars().all()
    # The hub's history has no branches: one row, or none before the first migration.
    return ", ".join(sorted(found)) if found else None


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
        raise config_error("config.database.no_schema", needed=needed)
    # Alembic is loaded only here, for the message: the scripts say which revisions exist.
    from pgs_hub.hub.storage.migrate import known_revisions  # noqa: PLC0415

    if current not in known_revisions():
        raise config_error("config.database.unknown_revision", current=current, needed=needed)
    raise config_error("config.database.old_revision", current=current, needed=needed)
