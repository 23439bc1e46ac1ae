"""Fixtures shared by the whole suite. Keep this file small and generic.

Database tests run on both SQLite and PostgreSQL: ``database_url`` is parametrized over the two
and gives each test a fresh, empty database; ``engine`` is that database migrated to head.
PostgreSQL is expected on 127.0.0.1:5432 with trust authentication for ``postgres`` (override
with ``PGS_TEST_POSTGRES``); if it is not running, the PostgreSQL cases fail, they never skip.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import asyncpg
import pluggy
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.hub.storage.migrate import upgrade
from tests.faults import figures as fault_figures
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


# --- markers by folder ---------------------------------------------------------------------------
# Every test gets its kind from where it lives, so that a new file is marked without anyone
# remembering to: `make test-quick` runs what needs no hub process, no browser and no fault.

_KIND_BY_FOLDER = {
    "crypto": "unit",
    "protocols": "unit",
    "auth": "unit",
    "policy": "unit",
    "i18n": "unit",
    "storage": "storage",
    "hub": "e2e",
    "e2e": "e2e",
    "security": "e2e",
    "console": "e2e",
    "desk": "e2e",
    "bench": "e2e",
    "deploy": "e2e",
    "faults": "fault",
}
#: Files whose tests disturb what other tests share (they stop the machine's PostgreSQL), run by
#: `make test` on their own after the parallel part.
_SERIAL_FILES = frozenset({"tests/faults/test_database_outage.py"})
#: Files that need a browser.
_BROWSER_FILES = frozenset(
    {"tests/console/test_console_browser.py", "tests/desk/test_desk_browser.py"}
)
#: Files whose tests take several seconds each (see the durations report of `make test`).
_SLOW_FILES = frozenset(
    {
        "tests/bench/test_bench_smoke.py",
        "tests/deploy/test_packaging.py",
        "tests/desk/test_desk_browser.py",
        "tests/e2e/test_witnessed_log.py",
        "tests/faults/test_slow_link.py",
        "tests/hub/test_cli_mistakes.py",
        "tests/e2e/test_access_matrix.py",
        "tests/e2e/test_audit_tools.py",
        "tests/e2e/test_backpressure.py",
        "tests/e2e/test_bad_input.py",
        "tests/e2e/test_log_tampering.py",
        "tests/e2e/test_scale_out.py",
        "tests/e2e/test_notifications.py",
        "tests/e2e/test_notifications_cli.py",
        "tests/e2e/test_attachments_resume.py",
        "tests/faults/test_crash.py",
        "tests/faults/test_disk_full.py",
        "tests/faults/test_group_commit_crash.py",
        "tests/security/test_mutations.py",
        "tests/security/test_openapi_schemathesis.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        path = Path(str(item.path)).relative_to(root).as_posix()
        parts = path.split("/")
        kind = _KIND_BY_FOLDER.get(parts[1]) if len(parts) > 2 else None
        if path in _BROWSER_FILES:
            kind = "browser"
        if kind is not None:
            item.add_marker(kind)
        if path in _SERIAL_FILES:
            item.add_marker("serial")
        if path in _SLOW_FILES:
            item.add_marker("slow")


# --- figures across xdist workers ----------------------------------------------------------------
# `make test` runs the suite in several worker processes (pytest-xdist). The security and fault
# figures are counted where the tests run, so each worker hands what it counted to the controller
# with the test's teardown report, and only the process that prints the tables counts reports.

_FIGURES = "pgs_figures"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    security_figures.COUNT_REPORTS = not _is_worker(config)


def _drain_figures() -> dict[str, object]:
    """What this process counted since the last call, as plain data; then forget it."""
    counted: dict[str, object] = {
        "tried": dict(security_figures.TRIED),
        "accepted": dict(security_figures.ACCEPTED),
        "faults": {name: dataclasses.astuple(row) for name, row in fault_figures.FAULTS.items()},
    }
    security_figures.TRIED.clear()
    security_figures.ACCEPTED.clear()
    fault_figures.FAULTS.clear()
    return counted


def _merge_figures(counted: dict[str, Any]) -> None:
    for family, tried in counted["tried"].items():
        security_figures.record(family, tried=tried, accepted=counted["accepted"].get(family, 0))
    for fault, (runs, acked, lost, dup, recovered) in counted["faults"].items():
        fault_figures.record(
            fault, runs=runs, acknowledged=acked, lost=lost, duplicated=dup, recovered=recovered
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    if call.when == "teardown" and _is_worker(item.config):
        outcome.get_result().user_properties.append((_FIGURES, _drain_figures()))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not security_figures.COUNT_REPORTS:
        return
    security_figures.count_report(report)
    for name, value in report.user_properties:
        if name == _FIGURES:
            _merge_figures(value)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The security and fault figures, whichever tests (and workers) recorded them."""
    # This module may be loaded twice (as a conftest and as tests.conftest, which other conftests
    # import): print the tables once.
    config = terminalreporter.config
    if getattr(config, "_pgs_figures_printed", False):
        return
    config._pgs_figures_printed = True  # type: ignore[attr-defined]
    if security_figures.TRIED:
        mode = "soak" if security_figures.SOAK else "short"
        terminalreporter.section(f"security figures ({mode} mode)")
        for line in security_figures.table():
            terminalreporter.write_line(line)
    if fault_figures.FAULTS:
        mode = "soak" if fault_figures.SOAK else "short"
        terminalreporter.section(f"fault figures ({mode} mode)")
        for line in fault_figures.table():
            terminalreporter.write_line(line)
