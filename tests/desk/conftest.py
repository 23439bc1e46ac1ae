"""Desk tests: a real hub process (tests/e2e harness), enrolled participants with key folders,
and a real desk server on a loopback port driven over HTTP (or by Chromium)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from pgs_hub.hub import keystore
from pgs_hub.hub.desk.app import Desk, start
from pgs_hub.hub.enrolment import certify
from tests.e2e.conftest import hub
from tests.e2e.harness import RunningHub

__all__ = ["GH", "NG", "PASSPHRASE", "WCO", "OpenDesk", "enrol_folder", "hub", "open_desk"]

NG, GH, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-PGS-BRUSSELS"
PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test key folder's


async def enrol_folder(
    hub: RunningHub, participant: str, role: str, folder: Path, passphrase: str | None = None
) -> keystore.LocalParticipant:
    """A key folder made like ``pgs keygen`` (encrypted with ``passphrase``), enrolled."""
    local = keystore.create(folder, participant, passphrase.encode() if passphrase else None)
    certificate = certify(
        hub.authority, participant, role=role, scope=None,
        verify=local.signing.public, encrypt=local.decryption.public, now=int(time.time()),
    )  # fmt: skip
    async with hub.client(hub.admin) as admin:
        await admin.enrol(certificate)
    hub.people[participant] = local
    return local


@dataclass
class OpenDesk:
    url: str  # the one-time link
    base: str
    desk: Desk
    session: aiohttp.ClientSession

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.base}

    async def csrf(self, path: str) -> str:
        async with self.session.get(self.base + path) as resp:
            found = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
        assert found is not None, path
        return found[1]

    async def post(self, path: str, data: Any) -> aiohttp.ClientResponse:
        return await self.session.post(
            self.base + path, data=data, headers=self.origin, allow_redirects=False
        )

    async def sign_in(self, passphrase: str | None = None) -> None:
        async with self.session.get(self.url, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
        data = {"csrf": await self.csrf("/unlock"), "passphrase": passphrase or ""}
        async with await self.post("/unlock", data) as resp:
            assert resp.status == 303, await resp.text()
            assert resp.headers["Location"] == "/inbox"


@asynccontextmanager
async def open_desk(hub: RunningHub, folder: Path) -> AsyncIterator[OpenDesk]:
    """A desk for the keys in ``folder``, and an HTTP session (cookies for 127.0.0.1)."""
    desk = Desk(keys=folder, hub_url=hub.url, authority=hub.authority.public)
    runner, url = await start(desk)
    jar = aiohttp.CookieJar(unsafe=True)
    try:
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            yield OpenDesk(url, f"http://127.0.0.1:{desk.gate.port}", desk, session)
    finally:
        await runner.cleanup()
