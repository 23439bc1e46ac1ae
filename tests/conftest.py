"""Fixtures shared by the whole suite. Keep this file small and generic.

Database tests run on both SQLite and PostgreSQL: ``database_url`` is parametrized over the two
and gives each test a fresh, empty database; ``engine`` is that database migrated to head.
PostgreSQL is expected on 127.0.0.1:5432 with trust authentication for ``postgres`` (override
with ``PGS_TEST_POSTGRES``); if it is not running, the PostgreSQL cases fail, they never skip.

A test that asks for a migrated database (``engine``, or a hub: see ``_WANT_MIGRATED``) gets a copy
of one this worker migrated to head once (a SQLite file copied, a PostgreSQL database created
from a template): running every migration again for each of hundreds of tests cost more than the
tests themselves. The migrations are still run from scratch by the tests that ask only for
``database_url`` (tests/storage/test_storage_schema.py walks every revision up and down).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Generator
from concurrent.futures import Future, ThreadPoolExecutor
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


def _postgres_url(name: str) -> str:
    return (
        make_url(POSTGRES_ADMIN_DSN)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )


#: Fixtures that migrate the test's database to head first: their tests get ``database_url``
#: already migrated (the hub fixtures' own ``upgrade`` then finds nothing to do).
_WANT_MIGRATED = frozenset({"engine", "hub", "fault_hub"})
#: This worker's databases migrated to head, made on first use: the SQLite file, the PostgreSQL
#: template database (dropped at the end of the session).
_migrated: dict[str, str] = {}


async def _migrated_sqlite(folder: Path) -> Path:
    if "sqlite" not in _migrated:
        path = folder / "migrated.db"
        await upgrade(f"sqlite+aiosqlite:///{path}")
        _migrated["sqlite"] = str(path)
    return Path(_migrated["sqlite"])


async def _migrated_postgres(admin: asyncpg.Connection) -> str:
    if "postgresql" not in _migrated:
        name = f"pgs_m_{secrets.token_hex(8)}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        _migrated["postgresql"] = name  # dropped at the end even if the migration fails
        await upgrade(_postgres_url(name))
    return _migrated["postgresql"]


async def _drop_postgres(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


#: PostgreSQL checkpoints on every DROP DATABASE (a second or more while other tests write): a
#: test's database is dropped by this thread while the next tests run, all before the session
#: ends (its finish waits for them and reports a drop that failed).
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgs-drop-db")
_drops: list[Future[None]] = []


def _drop_later(name: str) -> None:
    _drops.append(_dropper.submit(asyncio.run, _drop_postgres(name)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if "postgresql" in _migrated:
        _drop_later(_migrated.pop("postgresql"))
    _dropper.shutdown(wait=True)
    for drop in _drops:
        drop.result()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The URL of a fresh database (a file in tmp_path, or a new PostgreSQL database): empty, or
    migrated to head when the test also uses a fixture of ``_WANT_MIGRATED``."""
    migrated = not _WANT_MIGRATED.isdisjoint(request.fixturenames)
    if request.param == "sqlite":
        path = tmp_path / "hub.db"
        if migrated:
            source = await _migrated_sqlite(tmp_path_factory.getbasetemp())
            shutil.copyfile(source, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"pgs_t_{secrets.token_hex(8)}"
    admin = await _connect_postgres_admin()
    try:
        template = f' TEMPLATE "{await _migrated_postgres(admin)}"' if migrated else ""
        await admin.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await admin.close()
    try:
        yield _postgres_url(name)
    finally:
        if request.node.get_closest_marker("serial"):  # the next test may stop PostgreSQL
            await _drop_postgres(name)
        else:
            _drop_later(name)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database migrated to head (``database_url`` is, see
    ``_WANT_MIGRATED``); disposed after the test."""
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
#: Files whose tests take several seconds each, or minutes in all (a hub and many `pgs` processes
#: per module or test), with what they cost: the sum of their tests' durations in one `make test`
#: (seconds, on a 2-core machine shared with other work; only the proportions matter, for
#: `_SlowFirst`). Measure again with `--durations=0` when one grows.
_SLOW_FILES: dict[str, int] = {
    "tests/e2e/test_audit_tools.py": 710,
    "tests/hub/test_cli_officer.py": 500,
    "tests/security/test_openapi_schemathesis.py": 380,
    "tests/hub/test_cli_mistakes.py": 330,
    "tests/e2e/test_delivery.py": 320,
    "tests/e2e/test_scale_out.py": 300,
    "tests/hub/test_cli.py": 230,
    "tests/e2e/test_log_tampering.py": 220,
    "tests/security/test_resource_limits.py": 200,
    "tests/faults/test_group_commit_crash.py": 200,
    "tests/e2e/test_bad_input.py": 160,
    "tests/desk/test_desk_browser.py": 130,
    "tests/e2e/test_access_matrix.py": 120,
    "tests/e2e/test_backpressure.py": 90,
    "tests/deploy/test_packaging.py": 90,
    "tests/faults/test_crash.py": 70,
    "tests/bench/test_bench_smoke.py": 70,
    "tests/e2e/test_notifications_cli.py": 70,
    "tests/e2e/test_notifications.py": 70,
    "tests/e2e/test_attachments_resume.py": 60,
    "tests/e2e/test_witnessed_log.py": 60,
    "tests/faults/test_slow_link.py": 40,
    "tests/faults/test_disk_full.py": 20,
    "tests/security/test_mutations.py": 10,
}


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
    # Workers are not told the --dist mode; the order suits `make test`'s worksteal.
    if _is_worker(config) and not config.pluginmanager.has_plugin(_SlowFirst.NAME):
        config.pluginmanager.register(_SlowFirst(), _SlowFirst.NAME)


class _SlowFirst:
    """Order the tests so that each xdist worker starts with its share of the slow files.

    ``--dist worksteal`` hands each worker a contiguous quarter of the collection, and a worker
    that runs out takes the end of another's queue. In collection order the slow files (minutes
    each when several run at once) sat wherever their folder put them, often near the end of a
    worker's quarter, where one of them alone could outlast everything else. Here the slow files
    (``_SLOW_FILES``, kept whole for their module fixtures) are dealt out to the quarters by their
    cost, largest first, each quarter running them before its share of the rest in collection
    order. Every
    worker computes the same order (xdist checks that the collections match)."""

    NAME = "pgs-slow-first"

    @pytest.hookimpl(trylast=True)  # after `-m` has deselected
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        workers = int(config.workerinput["workercount"])  # type: ignore[attr-defined]
        sizes, left = [], len(items)
        for remaining in range(workers, 0, -1):  # as xdist's WorkStealingScheduling splits
            sizes.append(left // remaining)
            left -= sizes[-1]
        root = Path(str(config.rootpath))
        slow_files: dict[str, list[pytest.Item]] = {}
        rest: list[pytest.Item] = []
        for item in items:
            path = Path(str(item.path)).relative_to(root).as_posix()
            if path in _SLOW_FILES:
                slow_files.setdefault(path, []).append(item)
            else:
                rest.append(item)
        blocks: list[list[pytest.Item]] = [[] for _ in range(workers)]
        cost = [0] * workers
        for path in sorted(slow_files, key=lambda p: (-_SLOW_FILES[p], p)):
            cheapest = cost.index(min(cost))
            blocks[cheapest] += slow_files[path]
            cost[cheapest] += _SLOW_FILES[path]
        ordered: list[pytest.Item] = []
        for block, size in zip(blocks, sizes, strict=True):
            take = max(0, size - len(block))
            ordered += block + rest[:take]
            rest = rest[take:]
        items[:] = ordered + rest


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
