"""Fixtures: a real hub process per test (see harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pgs_hub.hub import keystore
from pgs_hub.hub.enrolment import bootstrap_admin
from pgs_hub.hub.home import write_home
from pgs_hub.hub.storage.migrate import upgrade
from tests.e2e.harness import ADMIN, RunningHub, free_port, start_hub, wait_healthy


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    home = tmp_path / "home"
    port = free_port()
    authority = write_home(home, port=port)
    await upgrade(database_url)
    admin_folder = await bootstrap_admin(home, database_url, authority, ADMIN)
    process = await start_hub(home, database_url, port)
    url = f"http://127.0.0.1:{port}"
    running = RunningHub(
        url=url, home=home, database_url=database_url, authority=authority,
        admin=keystore.load(admin_folder, None), process=process, log=home / "hub.log",
    )  # fmt: skip
    try:
        await wait_healthy(url, process, running.log)
        yield running
    finally:
        code = running.stop()
        assert code == 0, f"the hub did not stop cleanly ({code}):\n{running.log.read_text()}"
