"""Fixtures for the fault suite: a real hub process the tests may kill, freeze and restart, on
SQLite and PostgreSQL (``database_url`` from tests/conftest.py), or on a PostgreSQL database the
test may lose and get back (``pg_database_url``: no admin connection is held open during the test,
so stopping the server does not break the clean-up).

Short by default (``make test``); ``PGS_SOAK=1`` (``make soak``) repeats every fault more often.
tests/conftest.py prints the figures table at the end of the session.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_DSN
from tests.e2e.harness import RunningHub
from tests.faults.hubproc import launch


def pg_ctl(action: str, *extra: str) -> None:
    """Stop or start the local PostgreSQL cluster (the tests run as root on a test machine)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(  # noqa: S603 - fixed arguments
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, *extra],  # noqa: S607
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)


@pytest.fixture
async def pg_database_url() -> AsyncIterator[str]:
    name = f"pgs_f_{secrets.token_hex(8)}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield (
            make_url(POSTGRES_ADMIN_DSN)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _hub_for(database_url: str, home: Path) -> AsyncIterator[RunningHub]:
    hub = await launch(home, database_url)
    try:
        yield hub
    finally:
        if hub.process.poll() is None:
            code = hub.stop()
            assert code == 0, f"the hub did not stop cleanly ({code}):\n{hub.log.read_text()}"
        log = hub.log.read_text(errors="replace")
        assert "Traceback" not in log, f"the hub logged a traceback:\n{log}"


@pytest.fixture
async def fault_hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    """A hub on SQLite and on PostgreSQL that the test may kill and restart."""
    async for hub in _hub_for(database_url, tmp_path / "home"):
        yield hub


@pytest.fixture
async def pg_hub(pg_database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    """A hub on PostgreSQL whose database server the test may stop and start."""
    async for hub in _hub_for(pg_database_url, tmp_path / "home"):
        yield hub
