"""Running a hub: TLS, the OpenAPI document, metrics, policy reload on SIGHUP, the schema check
at start-up, and a clean stop."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from pgs_hub.hub.client import HubClient, HubClientError
from pgs_hub.hub.home import write_home
from pgs_hub.hub.server.app import routes
from pgs_hub.hub.server.openapi import document
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, free_port
from tests.e2e.messages import example
from tests.e2e.tls_ca import make_ca

NG, GH, CM = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA"
REPO = Path(__file__).parents[2]


async def test_the_served_openapi_document_is_the_one_in_the_repository(hub: RunningHub) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{hub.url}/v1/openapi.json") as resp,
    ):
        served = await resp.json()
    assert served == json.loads((REPO / "docs" / "openapi.json").read_text()) == document()
    app = web.Application()
    routes(app)  # every API route the hub serves is documented, and nothing else
    api = {
        r.resource.canonical
        for r in app.router.routes()
        if r.resource and not r.resource.canonical.startswith("/console")  # HTML pages
    }
    assert api == set(served["paths"])


async def test_a_health_check_does_not_wait_for_the_write_lock(hub: RunningHub) -> None:
    """Readiness reads through the read-only view: while another process holds SQLite's write lock
    (a long transaction of another tool, say), ``/v1/health/ready`` answers ready at once. It used
    to begin ``BEGIN IMMEDIATE`` transactions, which queued for the lock behind every writer (and
    here waited out the 5 s ping and answered "unreachable")."""
    if not hub.database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    database = make_url(hub.database_url).database
    assert database
    # The hub writes now and then on its own (start-up, housekeeping): wait for the lock.
    other = sqlite3.connect(database, isolation_level=None, timeout=10)
    try:
        other.execute("BEGIN IMMEDIATE")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{hub.url}/v1/health/ready") as resp,
        ):
            body = await resp.json()
        assert (resp.status, body["status"], body["database"]) == (200, "ok", "ok"), body
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def test_metrics_count_accepted_envelopes(hub: RunningHub) -> None:
    await hub.enrol(NG, "ncp")
    await hub.enrol(GH, "ncp")
    async with hub.client(NG) as ng:
        await ng.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH])
    async with aiohttp.ClientSession() as session, session.get(f"{hub.url}/metrics") as resp:
        text = await resp.text()
    assert resp.status == 200
    assert 'pgs_envelopes_accepted_total{kind="alert"} 1' in text
    assert "# TYPE pgs_websocket_connections gauge" in text
    # the enrolments and the send went through the group-commit writers
    assert "pgs_envelope_writer_items 1.0" in text
    assert "pgs_envelope_writer_failed_batches 0.0" in text


async def test_policy_reload_on_sighup_suspends_a_country(hub: RunningHub) -> None:
    for pid in (NG, GH, CM):
        await hub.enrol(pid, "ncp")
    policy = hub.home / "policy.toml"
    text = policy.read_text()
    assert "suspended_countries = []" in text
    policy.write_text(text.replace("suspended_countries = []", 'suspended_countries = ["CM"]'))
    hub.process.send_signal(signal.SIGHUP)
    alert = example(MessageKind.ALERT)
    refused: HubClientError | None = None
    async with hub.client(NG) as ng:
        for _ in range(50):  # the reload is asynchronous; wait for it to take effect
            try:
                await ng.send(kind=MessageKind.ALERT, content=alert, to=[CM])
            except HubClientError as exc:
                refused = exc
                break
            await asyncio.sleep(0.1)
        assert refused is not None, "the reloaded policy did not take effect"
        assert refused.status == 403
        assert refused.code == "recipient.inactive"
        assert "suspended" in refused.problem["detail"]
        sealed, _ = await ng.send(kind=MessageKind.ALERT, content=alert, to=[GH])
        assert sealed.header.to[0].id == GH
    await hub.enrol("WCO-AUDIT", "auditor")
    async with hub.client("WCO-AUDIT") as auditor:
        events = [r.event for r in (await auditor.audit_records()).records]
    assert "policy.reloaded" in events


async def test_a_broken_policy_file_keeps_the_old_policy(hub: RunningHub) -> None:
    await hub.enrol(NG, "ncp")
    await hub.enrol(GH, "ncp")
    (hub.home / "policy.toml").write_text("this is [not toml")
    hub.process.send_signal(signal.SIGHUP)
    await asyncio.sleep(0.5)
    assert hub.process.poll() is None
    async with hub.client(NG) as ng:
        await ng.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH])
    assert "policy reload refused" in hub.log.read_text()


async def test_tls_with_a_locally_generated_ca(tmp_path: Path, database_url: str) -> None:
    from pgs_hub.hub.enrolment import bootstrap_admin
    from pgs_hub.hub.keystore import load
    from pgs_hub.hub.storage.migrate import upgrade

    ca, cert, key = make_ca(tmp_path)
    home = tmp_path / "home"
    port = free_port()
    authority = write_home(home, port=port)
    await upgrade(database_url)
    admin = load(await bootstrap_admin(home, database_url, authority, "WCO-HUB-ADMIN"), None)
    log = home / "hub.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "pgs_hub", "serve", "--home", str(home), "--port", str(port),
             "--database-url", database_url, "--tls-cert", str(cert), "--tls-key", str(key)],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    trusted = ssl.create_default_context(cafile=str(ca))
    try:
        # Start-up may take a while on a loaded machine: the same 30 s as the e2e harness.
        deadline = time.monotonic() + 30
        while True:
            try:
                async with HubClient(url, admin, ssl_context=trusted) as client:
                    assert (await client.health()).status == "ok"
                    break
            except aiohttp.ClientConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(log.read_text())
                await asyncio.sleep(0.1)
        async with HubClient(url, admin, authority=authority.public, ssl_context=trusted) as client:
            assert [e.id for e in await client.directory()] == ["WCO-HUB-ADMIN"]
        # A client that does not trust the hub's CA refuses to talk to it.
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with HubClient(url, admin) as untrusting:
                await untrusting.health()
        # Plain HTTP to the TLS port gets nowhere.
        with pytest.raises((aiohttp.ClientError, asyncio.TimeoutError)):
            async with HubClient(url.replace("https", "http"), admin, timeout=5) as plain:
                await plain.health()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()


async def test_the_hub_refuses_to_start_on_an_outdated_schema(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_home(home, port=free_port())
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pgs_hub", "serve", "--home", str(home)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "pgs db upgrade" in done.stderr
