"""Migrations, the models-vs-migrations check, engine set-up and the start-up schema check."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub import migrations
from pgs_hub.hub.errors import ConfigError, Unavailable
from pgs_hub.hub.storage import migrate, revision
from pgs_hub.hub.storage.audit import append_record
from pgs_hub.hub.storage.engine import create_engine, default_sqlite_url, parse_url, ping, redact
from pgs_hub.hub.storage.tables import metadata


def _revisions_oldest_first() -> list[str]:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    scripts = ScriptDirectory.from_config(config)
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_every_revision_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    revisions = _revisions_oldest_first()
    # migrations.HEAD, what a starting hub needs without loading Alembic, is Alembic's head.
    assert revisions[-1] == revision.head_revision() == migrations.HEAD
    assert await revision.current_revision(database_url) is None

    for step in revisions:
        await migrate.upgrade(database_url, step)
        assert await revision.current_revision(database_url) == step
    assert await _tables(database_url) == set(metadata.tables)

    for previous in [*reversed(["base", *revisions[:-1]])]:
        await migrate.downgrade(database_url, previous)
        assert await revision.current_revision(database_url) == (
            None if previous == "base" else previous
        )
    assert await _tables(database_url) == set()

    await migrate.upgrade(database_url)
    assert await revision.current_revision(database_url) == revision.head_revision()
    assert await _tables(database_url) == set(metadata.tables)


async def test_models_match_the_migrated_schema(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []


async def test_check_constraints_are_created_with_their_names(engine: AsyncEngine) -> None:
    # autogenerate does not compare CHECK constraints, so compare their names here.
    def checks(connection: Connection) -> dict[str, set[str]]:
        inspector = inspect(connection)
        return {
            table: {str(check["name"]) for check in inspector.get_check_constraints(table)}
            for table in metadata.tables
        }

    expected = {
        name: {str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)}
        for name, table in metadata.tables.items()
    }
    async with engine.connect() as conn:
        assert await conn.run_sync(checks) == expected


async def test_enumerated_columns_are_checked_by_the_database(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO participants (id, country, role, scope, status, created_at, "
                    "updated_at) VALUES ('x', 'FR', 'ncp', NULL, 'sleeping', 1, 1)"
                )
            )


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO participant_keys (kid, participant_id, use, jwk, certificate, "
                    "serial, state, created_at) VALUES ('k', 'nobody', 'sig', '{}', 'c', 's', "
                    "'current', 1)"
                )
            )


async def test_sqlite_connections_are_durable_and_strict(tmp_path: Path) -> None:
    url = default_sqlite_url(tmp_path)
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            pragma = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
            created = (
                await conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'mailbox'")
            ).scalar_one()
    finally:
        await engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }
    assert "AUTOINCREMENT" in created  # cursors are never reused


async def test_a_second_writer_waits_for_the_first_to_commit(engine: AsyncEngine) -> None:
    # SQLite: BEGIN IMMEDIATE; PostgreSQL: the stream lock taken before a stream insert.
    async def write(event: str) -> int:
        async with engine.begin() as conn:
            return await append_record(
                conn, at=1, event=event, actor=None, subject=None, country=None, details={}
            )

    async with engine.begin() as first:
        first_seq = await append_record(
            first, at=1, event="first", actor=None, subject=None, country=None, details={}
        )
        second = asyncio.create_task(write("second"))
        await asyncio.sleep(0.3)
        assert not second.done()
    assert await second > first_seq


async def test_check_schema_refuses_an_empty_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(ConfigError, match=r"needs revision .*: run `pgs db upgrade`") as raised:
            await revision.check_schema(engine)
        # An operator reading French is told the same step, not "the configuration is invalid".
        said = raised.value.text("fr") or ""
        assert said.startswith("la base de données n'a pas encore de schéma de hub")
        assert said.endswith(": lancez `pgs db upgrade`")
    finally:
        await engine.dispose()


async def test_check_schema_accepts_head(engine: AsyncEngine) -> None:
    await revision.check_schema(engine)


async def test_check_schema_refuses_an_older_revision(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = revision.head_revision()
    monkeypatch.setattr(revision, "head_revision", lambda: "9999")
    with pytest.raises(
        ConfigError,
        match=rf"schema is at revision {current} but this hub needs 9999: run `pgs db upgrade`",
    ):
        await revision.check_schema(engine)


async def test_check_schema_refuses_an_unknown_revision(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'fffffff'"))
    with pytest.raises(
        ConfigError, match="revision fffffff, which this hub does not know"
    ) as raised:
        await revision.check_schema(engine)
    assert "révision fffffff, que ce hub ne connaît pas" in (raised.value.text("fr") or "")


async def test_migrating_to_an_unknown_revision_is_a_config_error(database_url: str) -> None:
    with pytest.raises(ConfigError, match="cannot migrate"):
        await migrate.upgrade(database_url, "nope")


async def test_ping(engine: AsyncEngine) -> None:
    await ping(engine)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////nonexistent-folder/for/sure/hub.db",
        "postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
    ],
    ids=["sqlite", "postgresql"],
)
async def test_ping_maps_connection_failures_to_unavailable(url: str) -> None:
    before = _aiosqlite_threads()
    engine = create_engine(url)
    try:
        with pytest.raises(Unavailable) as caught:
            await ping(engine)
    finally:
        await engine.dispose()
    assert caught.value.code == "database.unavailable"
    await _aiosqlite_threads_finished(before)


def _aiosqlite_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def _aiosqlite_threads_finished(before: set[threading.Thread]) -> None:
    # After a failed connect, aiosqlite stops its worker thread without waiting for it; the thread
    # then reports back to the event loop, which must still be open (it is closed after the test).
    # Only this test's threads are waited for: an earlier test in the same worker process may
    # still have one of its own.
    for _ in range(500):
        if not _aiosqlite_threads() - before:
            return
        await asyncio.sleep(0.01)
    pytest.fail("aiosqlite worker threads did not stop")


def test_redact_hides_passwords() -> None:
    assert (
        redact("postgresql+asyncpg://hub:s3cret@db.example:5432/hub")
        == "postgresql+asyncpg://hub:***@db.example:5432/hub"
    )
    assert redact("sqlite+aiosqlite:///var/hub.db") == "sqlite+aiosqlite:///var/hub.db"
    assert "s3cret" not in redact("not a url :s3cret@")


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///hub.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///hub.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_parse_url_picks_the_async_driver(url: str, driver: str) -> None:
    assert parse_url(url).drivername == driver


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u@h/db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite:///hub.db",
        "postgresql+psycopg://u@h/db",
        "::",
    ],
)
def test_parse_url_refuses_what_the_hub_does_not_support(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_url(url)
