"""PostgreSQL connections taken from the pool are checked before use (hub/storage/engine.py,
``_check_on_checkout``, which replaced ``pool_pre_ping`` and its three round trips): a connection
whose backend was ended while it waited in the pool, or whose network path went silent, is
replaced, and the request that takes it never sees the failure."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pgs_hub.hub.storage import engine as engines
from tests.conftest import POSTGRES_ADMIN_DSN


def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connection pool")


async def _backend_pid(engine: engines.AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_whose_backend_was_ended_in_the_pool_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the empty query: the closed socket tells. (A checkout in the instant between the
    backend's end and the loop reading it would still get the dead connection, as a request
    could between a pre-ping and its first statement.)"""
    _postgresql_only(database_url)
    monkeypatch.setattr(engines, "POSTGRESQL_PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = engines.create_engine(database_url)
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            pooled = (await conn.get_raw_connection()).driver_connection
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        for _ in range(500):  # until the end of its socket has been read
            if pooled.is_closed():
                break
            await asyncio.sleep(0.01)
        assert pooled.is_closed()
        assert await _backend_pid(engine) != pid
    finally:
        await admin.close()
        await engine.dispose()


class _Line:
    """A TCP relay to PostgreSQL whose open connections can be made silent: nothing passes
    either way and nothing is closed, as when a network path dies without a word."""

    def __init__(self) -> None:
        self.silent: set[asyncio.StreamWriter] = set()
        self._open: list[asyncio.StreamWriter] = []
        self.port = 0

    def silence(self) -> None:
        self.silent.update(self._open)

    async def _relay(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                     client: asyncio.StreamWriter) -> None:  # fmt: skip
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if client not in self.silent:
                    sink.write(data)
                    await sink.drain()
        sink.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        url = make_url(POSTGRES_ADMIN_DSN)
        up_reader, up_writer = await asyncio.open_connection(url.host, url.port or 5432)
        self._open.append(writer)
        await asyncio.gather(
            self._relay(reader, up_writer, writer), self._relay(up_reader, writer, writer)
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[_Line]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for writer in self._open:
                writer.close()


async def test_a_connection_idle_for_a_while_is_pinged_and_replaced_when_silent(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(database_url)
    monkeypatch.setattr(engines, "POSTGRESQL_PING_AFTER_IDLE_SECONDS", 0.0)
    monkeypatch.setattr(engines, "POSTGRESQL_PING_TIMEOUT_SECONDS", 0.5)
    async with _Line().running() as line:
        url = make_url(database_url).set(host="127.0.0.1", port=line.port)
        engine = engines.create_engine(url.render_as_string(hide_password=False))
        try:
            pid = await _backend_pid(engine)
            line.silence()
            # Unchecked, the query would wait for ever on the silent connection.
            assert await asyncio.wait_for(_backend_pid(engine), 60) != pid
        finally:
            await engine.dispose()
