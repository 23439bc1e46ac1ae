"""Harness for a real hub process on a loopback port (SQLite or PostgreSQL).

Each test gets a fresh database (``database_url`` from tests/conftest.py), a hub home made the way
``pgs init`` makes it, and a ``pgs serve`` subprocess that is stopped with SIGTERM afterwards (and
must exit cleanly).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from crypto.keys import SigningKey
from hub import keystore
from hub.client import HubClient
from hub.enrolment import certify

ADMIN = "WCO-HUB-ADMIN"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningHub:
    url: str
    home: Path
    database_url: str
    authority: SigningKey
    admin: keystore.LocalParticipant
    process: subprocess.Popen[bytes]
    log: Path
    people: dict[str, keystore.LocalParticipant] = field(default_factory=dict)

    def client(self, who: str | keystore.LocalParticipant | None) -> HubClient:
        me = self.people[who] if isinstance(who, str) else who
        return HubClient(self.url, me, authority=self.authority.public)

    async def enrol(
        self, participant: str, role: str, scope: str | None = None
    ) -> keystore.LocalParticipant:
        local = keystore.create(self.home / "people" / participant, participant, None)
        certificate = certify(
            self.authority, participant, role=role, scope=scope,
            verify=local.signing.public, encrypt=local.decryption.public, now=int(time.time()),
        )  # fmt: skip
        async with self.client(self.admin) as admin:
            await admin.enrol(certificate)
        self.people[participant] = local
        return local

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return -9
        return self.process.returncode


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until THIS hub answers: the health answer must name the log origin of its home
    (``log`` lives in the home), so another process on a reused port is never mistaken for it."""
    config = tomllib.loads((log.parent / "config.toml").read_text())
    origin = config.get("log", {}).get("origin")
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the hub exited during start-up:\n{log.read_text()}")
            try:
                async with session.get(f"{url}/v1/health") as resp:
                    if resp.status == 200:
                        if (await resp.json()).get("log_origin") != origin:
                            pytest.fail(f"another process answers on {url}")
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"the hub did not become healthy:\n{log.read_text()}")


async def start_hub(home: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    log = home / "hub.log"
    with log.open("ab") as sink:
        return subprocess.Popen(  # noqa: S603 - our own server with test arguments
            [sys.executable, "-m", "hub", "serve", "--home", str(home), "--port", str(port),
             "--database-url", database_url],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
