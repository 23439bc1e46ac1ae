"""Fixtures shared by the whole suite. Keep this file small and generic.

Database tests run on both SQLite and PostgreSQL: ``database_url`` is parametrized over the two
and gives each test a fresh, empty database; ``engine`` is that database migrated to head.
PostgreSQL is expected on 127.0.0.1:5432 with trust authentication for ``postgres`` (override
with ``PGS_TEST_POSTGRES``); if it is not running, the PostgreSQL cases fail, they never skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.engine import create_engine
from hub.storage.migrate import upgrade
from tests.security import figures as security_figures

POSTGRES_ADMIN_DSN = os.environ.get(
    "PGS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


async def _connect_postgres_admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN} ({exc}); "
            f"start it with: {START_POSTGRES}",
            pytrace=False,
        )


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh, empty database (a file in tmp_path, or a new PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    name = f"pgs_t_{secrets.token_hex(8)}"
    admin = await _connect_postgres_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield (
                make_url(POSTGRES_ADMIN_DSN)
                .set(drivername="postgresql+asyncpg", database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database migrated to head; disposed after the test."""
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    security_figures.count_report(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The security figures (tests/security/figures.py), whichever tests recorded them."""
    # This module may be loaded twice (as a conftest and as tests.conftest, which other conftests
    # import): print the table once.
    config = terminalreporter.config
    if security_figures.TRIED and not getattr(config, "_pgs_security_printed", False):
        config._pgs_security_printed = True  # type: ignore[attr-defined]
        mode = "soak" if security_figures.SOAK else "short"
        terminalreporter.section(f"security figures ({mode} mode)")
        for line in security_figures.table():
            terminalreporter.write_line(line)
