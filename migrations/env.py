"""Alembic environment for the hub.

The hub runs migrations itself (``hub.storage.migrate``, behind ``pgs db upgrade``): it opens a
transaction on its own async engine and hands the synchronous side of that connection to Alembic
in ``config.attributes["connection"]``, so a migration commits or rolls back as a whole, on SQLite
too. Without a shared connection (the ``alembic`` command line), the URL is read from the
``sqlalchemy.url`` option; offline mode (``--sql``) writes the SQL for review instead.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_with_url(url))


_main()
