"""The cross-process notifier (hub/services/fanout.py): payloads within PostgreSQL's limit, and
two notifiers on one real PostgreSQL database waking each other's subscribers."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from pgs_hub.hub.services.fanout import (
    MAX_PAYLOAD_BYTES,
    PgFanout,
    connect_arguments,
    payloads,
    read_payload,
)

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def test_payloads_name_every_participant_once_and_stay_under_the_limit() -> None:
    ids = [f"GH-NCP-{n:020d}" for n in range(2000)]  # far more than one payload holds
    sent = list(payloads(ids + ids[:10]))
    assert len(sent) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES < 8000 for p in sent)
    named = [pid for p in sent for pid in json.loads(p)]
    assert sorted(named) == sorted(ids)
    assert list(payloads([])) == []
    assert list(payloads(ids, everyone=True)) == ['"*"']


@pytest.mark.parametrize("payload", ['"*"', "", "not json", "{}", "[1, 2]", '{"to": []}'])
def test_anything_but_a_list_of_ids_means_everyone(payload: str) -> None:
    assert read_payload(payload) is None


def test_a_list_of_ids_names_them() -> None:
    assert read_payload('["GH-NCP-ACCRA","NG-NCP-LAGOS"]') == ["GH-NCP-ACCRA", "NG-NCP-LAGOS"]


@on_postgresql
async def test_two_processes_wake_each_others_subscribers(database_url: str) -> None:
    url = make_url(database_url)
    one, other = PgFanout.for_url(url), PgFanout.for_url(url)
    await one.start()
    await other.start()
    try:
        assert one.listening
        assert other.listening
        here, there = one.subscribe("GH-NCP-ACCRA"), other.subscribe("GH-NCP-ACCRA")
        bystander = other.subscribe("NG-NCP-LAGOS")
        one.notify(pid for pid in ["GH-NCP-ACCRA"])  # a generator, as submission passes one
        assert await here.wait(1)  # locally, without PostgreSQL
        assert await there.wait(30)  # through PostgreSQL
        assert not await bystander.wait(0.5)
        assert not await here.wait(0.5)  # its own notification coming back is ignored
        # Many ids at once go out in several payloads, all heard.
        many = [f"GH-NCP-{n:020d}" for n in range(1000)]
        subs = [other.subscribe(pid) for pid in many[::97]]
        one.notify(many)
        assert all(await asyncio.gather(*(s.wait(30) for s in subs)))
    finally:
        await one.stop()
        await other.stop()
    assert not one.listening


@on_postgresql
async def test_a_lost_connection_is_opened_again_and_every_stream_looks_again(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    arguments = connect_arguments(make_url(database_url))
    attempts = 0

    async def flaky() -> asyncpg.Connection:
        nonlocal attempts
        attempts += 1
        if attempts == 1:  # the database is not there yet
            raise ConnectionRefusedError(111, "Connection refused")
        return await asyncpg.connect(**arguments, timeout=5)

    fanout = PgFanout(flaky)
    await fanout.start(wait=30)
    try:
        assert fanout.listening
        assert attempts == 2
        sub = fanout.subscribe("GH-NCP-ACCRA")
        admin = await asyncpg.connect(**arguments, timeout=5)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE pid <> pg_backend_pid() AND datname = current_database()"
            )
        finally:
            await admin.close()
        # Nobody notified anything: the reconnected notifier wakes its streams by itself, since
        # it may have missed notifications while it was away.
        assert await sub.wait(30)
        assert attempts == 3
        assert fanout.listening
    finally:
        await fanout.stop()
    logged = [r for r in caplog.records if r.name == "pgs.hub.fanout"]
    assert any("lost the connection" in r.getMessage() for r in logged)
    assert not any(r.exc_info for r in logged)  # expected faults: one line each, no traceback
