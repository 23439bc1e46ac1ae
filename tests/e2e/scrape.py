"""Reading the hub's /metrics in tests: how many health requests it counted and timed."""

from __future__ import annotations

import re
import ssl

import aiohttp

HEALTH = re.compile(
    r'^pgs_http_requests_total\{method="GET",route="/v1/health",status="200"\} (\S+)$', re.M
)
LATENCY = re.compile(
    r'^pgs_http_request_duration_seconds_count\{method="GET",route="/v1/health"\} (\S+)$', re.M
)


async def get(url: str, context: ssl.SSLContext | None = None) -> int:
    """One GET over a new connection (so that under --workers N any worker may take it)."""
    connector = aiohttp.TCPConnector(ssl=context if context is not None else True)
    async with aiohttp.ClientSession(connector=connector) as session, session.get(url) as resp:
        await resp.read()
        return resp.status


async def health_counts(base: str, context: ssl.SSLContext | None = None) -> tuple[int, int]:
    """(health requests counted, health latencies observed) in one scrape of /metrics."""
    connector = aiohttp.TCPConnector(ssl=context if context is not None else True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(f"{base}/metrics") as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    counted, timed = HEALTH.search(text), LATENCY.search(text)
    assert counted is not None, text
    assert timed is not None, text
    return int(float(counted.group(1))), int(float(timed.group(1)))
