"""Harness for a real hub process on a loopback port (SQLite or PostgreSQL).

Each test gets a fresh database (``database_url`` from tests/conftest.py), a hub home made the way
``pgs init`` makes it, and a ``pgs serve`` subprocess that is stopped with SIGTERM afterwards (and
must exit cleanly). :func:`launch` does all of it with options (``--workers``, TLS, ``[stream]``
settings); :func:`another_process` starts a second ``pgs serve`` on the same home and database, as
a scaled-out deployment runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClient
from pgs_hub.hub.enrolment import bootstrap_admin, certify
from pgs_hub.hub.home import CONFIG_FILE, write_home
from pgs_hub.hub.storage.migrate import upgrade

ADMIN = "WCO-HUB-ADMIN"


# Hubs get ports below Linux's ephemeral range (32768-60999), a block of 1,000 per xdist worker:
# a port asked of the kernel (bind to 0) and released before the hub binds it could otherwise be
# handed to another test's server in between (a desk, an SMTP server, another worker's hub).
_PORT_BLOCK = 1000
_PORT_BASE = 20000
_ports = itertools.count()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    block = int(worker.removeprefix("gw")) % 12 if worker.removeprefix("gw").isdigit() else 0
    for _ in range(_PORT_BLOCK):
        port = _PORT_BASE + block * _PORT_BLOCK + next(_ports) % _PORT_BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # a service of the machine, or a hub of this worker still running
                continue
            return port
    raise RuntimeError("no free port in this worker's block")


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
    ssl: ssl.SSLContext | None = None  # trusts the hub's certificate when it serves TLS

    def client(self, who: str | keystore.LocalParticipant | None) -> HubClient:
        me = self.people[who] if isinstance(who, str) else who
        return HubClient(self.url, me, authority=self.authority.public, ssl_context=self.ssl)

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


async def wait_healthy(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Wait until THIS hub answers: the health answer must name the log origin of its home
    (``log`` lives in the home), so another process on a reused port is never mistaken for it."""
    config = tomllib.loads((log.parent / "config.toml").read_text())
    origin = config.get("log", {}).get("origin")
    deadline = time.monotonic() + 30
    connector = aiohttp.TCPConnector(ssl=ssl_context if ssl_context is not None else True)
    async with aiohttp.ClientSession(connector=connector) as session:
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


@dataclass(frozen=True)
class Tls:
    """A CA and the server certificate it issued (tests/e2e/tls_ca.py)."""

    ca: Path
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


async def start_hub(
    home: Path,
    database_url: str,
    port: int,
    *,
    workers: int = 1,
    tls: Tls | None = None,
    log_name: str = "hub.log",
) -> subprocess.Popen[bytes]:
    """``pgs serve`` on ``port``, its output appended to ``HOME/log_name``."""
    log = home / log_name
    extra = ["--workers", str(workers)] if workers != 1 else []
    if tls is not None:
        extra += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    with log.open("ab") as sink:
        return subprocess.Popen(  # noqa: S603 - our own server with test arguments
            [sys.executable, "-m", "pgs_hub", "serve", "--home", str(home), "--port", str(port),
             "--database-url", database_url, *extra],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def configure_stream(home: Path, **settings: float) -> None:
    """Set ``[stream]`` options (``recheck_seconds``, ``send_timeout_seconds``, ``buffer_bytes``)
    in config.toml."""
    lines = "".join(f"{name} = {value}\n" for name, value in settings.items())
    with (home / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write(f"\n[stream]\n{lines}")


async def launch(
    home: Path,
    database_url: str,
    *,
    workers: int = 1,
    tls: Tls | None = None,
    stream: dict[str, float] | None = None,
    config: str = "",
    hub_settings: dict[str, float] | None = None,
) -> RunningHub:
    """Make a home like ``pgs init``, migrate, bootstrap the admin, start ``pgs serve`` and wait
    until it answers. ``config`` is appended to config.toml (more tables, TOML text) and
    ``hub_settings`` are added to its ``[hub]`` table."""
    port = free_port()
    authority = write_home(home, port=port)
    if stream:
        configure_stream(home, **stream)
    if config:
        with (home / CONFIG_FILE).open("a", encoding="utf-8") as file:
            file.write("\n" + config)
    if hub_settings:
        path = home / CONFIG_FILE
        lines = "".join(f"{name} = {value}\n" for name, value in hub_settings.items())
        path.write_text(path.read_text(encoding="utf-8").replace("[hub]\n", "[hub]\n" + lines, 1))
    await upgrade(database_url)
    admin_folder = await bootstrap_admin(home, database_url, authority, ADMIN)
    process = await start_hub(home, database_url, port, workers=workers, tls=tls)
    hub = RunningHub(
        url=f"{'https' if tls else 'http'}://127.0.0.1:{port}", home=home,
        database_url=database_url, authority=authority, admin=keystore.load(admin_folder, None),
        process=process, log=home / "hub.log", ssl=tls.client_context() if tls else None,
    )  # fmt: skip
    await wait_healthy(hub.url, process, hub.log, ssl_context=hub.ssl)
    return hub


@contextlib.asynccontextmanager
async def launched(
    home: Path,
    database_url: str,
    *,
    ncps: Sequence[str] = (),
    config: str = "",
    stream: dict[str, float] | None = None,
) -> AsyncIterator[RunningHub]:
    """:func:`launch` with ``config`` and ``stream``, the national contact points ``ncps``
    enrolled; stopped afterwards, and the hub must have exited cleanly (its log shown if not)."""
    running = await launch(home, database_url, config=config, stream=stream)
    try:
        for pid in ncps:
            await running.enrol(pid, "ncp")
        yield running
    finally:
        assert running.stop() == 0, running.log.read_text()


async def another_process(hub: RunningHub, log_name: str) -> RunningHub:
    """A second ``pgs serve`` on ``hub``'s home and database, on a port of its own: the same hub
    (same keys, same log), another process. Enrolments through either are seen by both (and
    ``people`` is shared)."""
    port = free_port()
    process = await start_hub(hub.home, hub.database_url, port, log_name=log_name)
    other = replace(hub, url=f"http://127.0.0.1:{port}", process=process, log=hub.home / log_name)
    await wait_healthy(other.url, process, other.log)
    return other


async def raise_rate_limits(hub: RunningHub) -> None:
    """Lift the policy's request rate limit of a running hub (SIGHUP), for runs that send far more
    than the default burst on purpose: a 429 would hide the answer they look at."""
    path = hub.home / "policy.toml"
    text = path.read_text()
    for line in ("rate_per_minute = 600", "rate_burst = 100"):
        assert line in text, f"policy.toml no longer has {line!r}"
        text = text.replace(line, line.split("=")[0] + "= 1000000")
    path.write_text(text)
    hub.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "policy reloaded" not in hub.log.read_text():
        assert time.monotonic() < deadline, "the hub did not reload its policy"
        await asyncio.sleep(0.05)
