"""A PostgreSQL database turned read-only under a running hub (issue 12, item 5): submissions and
signed reads answer 503 with Retry-After (they were 500s), readiness says "read-only" while
liveness stays up (/v1/health said "database ok"), the log names no message id or signature, and
everything works again once the database is writable. A database refusing connections is a 503
as well (it was a 500)."""

from __future__ import annotations

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_DSN
from tests.e2e.harness import RunningHub
from tests.e2e.rawhttp import JOSE, call
from tests.faults.hubproc import READERS, presealed, world


async def _alter(database_url: str, setting: str) -> None:
    """Change the database's ``setting`` (``ALTER DATABASE``) and end its current sessions: the
    hub's pool sees their sockets closed and reconnects, meeting the new setting.

    ``pg_terminate_backend`` only signals a backend unless given a timeout; without one, a
    request sent at once could take a pooled connection whose backend was still alive and lose
    it mid-statement (a 503, right for that request but not what this test asks about)."""
    name = make_url(database_url).database
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" {setting}')
        await admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()


async def test_a_read_only_database_is_503_and_not_ready(pg_hub: RunningHub) -> None:
    hub = pg_hub
    await world(hub)
    first, second, third = await presealed(hub, 3)
    reader = hub.people[READERS[0]].signing
    await _alter(hub.database_url, "SET default_transaction_read_only = on")
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(2):  # the first may meet a connection just ended: same answer
                reply = await call(session, "POST", f"{hub.url}/v1/envelopes", body=first.raw,
                                   content_type=JOSE)  # fmt: skip
                assert (reply.status, reply.code) == (503, "database.unavailable"), reply.body
                assert int(reply.headers["Retry-After"]) > 0
            reply = await call(session, "GET", f"{hub.url}/v1/inbox", key=reader)
            assert (reply.status, reply.code) == (503, "database.unavailable"), reply.body
            live = await call(session, "GET", f"{hub.url}/v1/health/live")
            assert live.status == 200
            for path in ("/v1/health/ready", "/v1/health"):
                ready = await call(session, "GET", hub.url + path)
                assert ready.status == 503, ready.body
                assert ready.json()["status"] == "not ready"
                assert int(ready.headers["Retry-After"]) > 0
    finally:
        await _alter(hub.database_url, "RESET ALL")
    async with aiohttp.ClientSession() as session:
        reply = await call(session, "POST", f"{hub.url}/v1/envelopes", body=second.raw,
                           content_type=JOSE)  # fmt: skip
        assert reply.status == 201, reply.body
    # The database refusing connections: 503 too (it was a 500).
    await _alter(hub.database_url, "ALLOW_CONNECTIONS false")
    try:
        async with aiohttp.ClientSession() as session:
            reply = await call(session, "POST", f"{hub.url}/v1/envelopes", body=third.raw,
                               content_type=JOSE)  # fmt: skip
            assert (reply.status, reply.code) == (503, "database.unavailable"), reply.body
            ready = await call(session, "GET", f"{hub.url}/v1/health/ready")
            assert (ready.status, ready.json()["database"]) == (503, "unreachable")
    finally:
        await _alter(hub.database_url, "ALLOW_CONNECTIONS true")
    log = hub.log.read_text(errors="replace")
    assert "database unavailable" in log
    envelope = first.raw.decode()
    signature = envelope.rsplit('"signature":"', 1)[1][:40]
    for secret in (first.mid, third.mid, signature, envelope[:60]):
        assert secret not in log
