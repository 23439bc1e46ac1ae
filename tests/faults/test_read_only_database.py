"""A PostgreSQL database turned read-only under a running hub (issue 12, item 5): submissions and
signed reads answer 503 with Retry-After (they were 500s), readiness says "read-only" while
liveness stays up (/v1/health said "database ok"), the log names no message id or signature, and
everything works again once the database is writable."""

from __future__ import annotations

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_DSN
from tests.e2e.harness import RunningHub
from tests.e2e.rawhttp import JOSE, call
from tests.faults.hubproc import READERS, presealed, world


async def _set_read_only(database_url: str, on: bool) -> None:
    """Make the database read-only (or writable again) for new sessions, and end the current
    ones: the hub's pool reconnects (pre-ping) and gets the new setting."""
    name = make_url(database_url).database
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        setting = "SET default_transaction_read_only = on" if on else "RESET ALL"
        await admin.execute(f'ALTER DATABASE "{name}" {setting}')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await admin.close()


async def test_a_read_only_database_is_503_and_not_ready(pg_hub: RunningHub) -> None:
    hub = pg_hub
    await world(hub)
    first, second = await presealed(hub, 2)
    reader = hub.people[READERS[0]].signing
    await _set_read_only(hub.database_url, on=True)
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
        await _set_read_only(hub.database_url, on=False)
    async with aiohttp.ClientSession() as session:
        reply = await call(session, "POST", f"{hub.url}/v1/envelopes", body=second.raw,
                           content_type=JOSE)  # fmt: skip
        assert reply.status == 201, reply.body
    log = hub.log.read_text(errors="replace")
    assert "database unavailable" in log
    envelope = first.raw.decode()
    signature = envelope.rsplit('"signature":"', 1)[1][:40]
    for secret in (first.mid, signature, envelope[:60]):
        assert secret not in log
