"""PostgreSQL stopped (immediate mode) under a running hub, then started again: the hub answers
503 with Retry-After and a problem document, quickly (never a 500, never a hang), reconnects by
itself, and loses nothing it acknowledged.

Regression test for a defect found here: database connection errors escaped as bare 500s; they
are now mapped to ``database.unavailable`` in hub/server/problems.py, and the PostgreSQL engine
has a connect timeout (hub/storage/engine.py).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import aiohttp
import pytest
from sqlalchemy import exc as sa_exc

from pgs_hub.hub.server.problems import database_problem
from tests.e2e.harness import RunningHub
from tests.faults import figures
from tests.faults.conftest import pg_ctl
from tests.faults.hubproc import acknowledged, presealed, submit_once, tally, world

ANSWER_WITHIN = 8.0  # seconds: a few, well below any client's patience
RECOVER_WITHIN = 20.0


def _is_unavailable_problem(
    status: int | None, doc: dict[str, object] | None, headers: object
) -> bool:
    return status == 503 and doc is not None and doc.get("code") == "database.unavailable"


async def _get_health(
    session: aiohttp.ClientSession, url: str
) -> tuple[int, dict[str, str], bytes]:
    async with session.get(f"{url}/v1/health") as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def _healthy_again(session: aiohttp.ClientSession, url: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < RECOVER_WITHIN:
        try:
            status, _, _ = await _get_health(session, url)
            if status == 200:
                return time.monotonic() - start
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    pytest.fail(f"the hub did not recover within {RECOVER_WITHIN} s of PostgreSQL coming back")


async def test_postgresql_stopped_mid_stream_gives_503_then_recovers(pg_hub: RunningHub) -> None:
    await world(pg_hub)
    runs = figures.repeat(1, 3)
    sent = []
    acked_total = recovered = 0
    timeout = aiohttp.ClientTimeout(total=ANSWER_WITHIN + 2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for tag in range(runs):
            batch = await presealed(pg_hub, 8, tag)
            for item in batch[:4]:
                status, doc = await submit_once(session, pg_hub.url, item)
                assert acknowledged(status, doc, item), (status, doc)
            acked = batch[:4]
            try:
                pg_ctl("stop", "-m", "immediate")
                start = time.monotonic()
                status, headers, body = await _get_health(session, pg_hub.url)
                assert time.monotonic() - start < ANSWER_WITHIN
                assert status == 503, (status, body)
                # /v1/health is readiness: its own document says why it is not ready.
                assert headers["Content-Type"].startswith("application/json")
                assert json.loads(body)["database"] == "unreachable", body
                assert int(headers["Retry-After"]) > 0
                for item in batch[4:]:
                    start = time.monotonic()
                    async with session.post(
                        f"{pg_hub.url}/v1/envelopes", data=item.raw,
                        headers={"Content-Type": "application/jose+json"},
                    ) as resp:  # fmt: skip
                        doc = await resp.json(content_type=None)
                        assert time.monotonic() - start < ANSWER_WITHIN
                        assert resp.status == 503, (resp.status, doc)
                        assert int(resp.headers["Retry-After"]) > 0
                        assert resp.content_type == "application/problem+json"
                        assert doc["code"] == "database.unavailable"
                        assert {"type", "title", "status", "detail"} <= set(doc)
            finally:
                pg_ctl("start")
            await _healthy_again(session, pg_hub.url)
            for item in batch[4:]:
                status, doc = await submit_once(session, pg_hub.url, item)
                assert acknowledged(status, doc, item), (status, doc)
                recovered += 1
            sent += batch
            acked_total += len(acked)
            result = await tally(pg_hub, must=sent, may=[])
            figures.record(
                "postgresql stopped and restarted",
                acknowledged=len(acked),
                lost=result.lost,
                duplicated=result.duplicated,
                recovered=len(batch) - len(acked),
            )
            assert (result.lost, result.duplicated, result.unexpected) == (0, 0, 0), result


def _full() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = sqlite3.SQLITE_FULL  # what the sqlite3 module sets
    return error


class _PgError(Exception):
    """The shape of an asyncpg error as SQLAlchemy wraps it: a SQLSTATE in ``sqlstate``."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _sqlite(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("attempt to write a readonly database")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused")), 503,
         "database.unavailable"),
        (sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")), 503,
         "database.unavailable"),
        (sa_exc.TimeoutError("QueuePool limit reached"), 503, "database.unavailable"),
        (ConnectionRefusedError(111, "Connect call failed"), 503, "database.unavailable"),
        (sa_exc.OperationalError("INSERT", {}, _full()), 507, "storage.full"),
        # Issue 12: a read-only database (PostgreSQL 25006, SQLite SQLITE_READONLY), a disk full
        # on PostgreSQL (53100), and a refused connection to a host with several addresses (a
        # bare OSError "Multiple exceptions", not a ConnectionError) were 500s, as was a
        # database not accepting connections (55000, ALLOW_CONNECTIONS false).
        (sa_exc.DBAPIError("INSERT", {}, _PgError("25006")), 503, "database.unavailable"),
        (sa_exc.OperationalError("INSERT", {}, _sqlite(sqlite3.SQLITE_READONLY)), 503,
         "database.unavailable"),
        (sa_exc.DBAPIError("INSERT", {}, _PgError("53100")), 507, "storage.full"),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed"), 503,
         "database.unavailable"),
        (sa_exc.DBAPIError("connect", {}, _PgError("55000")), 503, "database.unavailable"),
    ],
)  # fmt: skip
def test_database_failures_map_to_a_retryable_problem(
    error: Exception, status: int, code: str
) -> None:
    """Fast regression test of the mapping itself (the outage test above proves it end to end)."""
    answer = database_problem(error)
    assert answer is not None
    assert answer.status == status
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.body is not None
    doc = json.loads(bytes(answer.body))  # type: ignore[arg-type]
    assert doc["code"] == code
    assert "SELECT" not in doc["detail"]
    assert "INSERT" not in doc["detail"]


def test_a_database_bug_is_not_disguised_as_an_outage() -> None:
    assert database_problem(sa_exc.IntegrityError("INSERT", {}, Exception("unique"))) is None
    assert database_problem(ValueError("a bug")) is None
