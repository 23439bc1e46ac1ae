"""Forwarded headers are believed from configured proxies only (hub/server/proxy.py), and
``public_url`` overrides them: the middleware on a real loopback server, and the config checks.

The app here answers with what the hub would use to rebuild a signed URL (``external_origin``)
and the client address it would log; the nginx test (tests/e2e/test_behind_proxy.py) shows the
same settings carrying real signed requests."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.home import CONFIG_FILE, load_config, write_home
from pgs_hub.hub.server.problems import problem_middleware
from pgs_hub.hub.server.proxy import FORWARDING, Forwarding, external_origin, forwarded_middleware

Serve = Callable[[Forwarding], Awaitable[str]]


async def view(request: web.Request) -> web.Response:
    return web.json_response({"origin": external_origin(request), "remote": request.remote})


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[TestServer] = []

    async def start(forwarding: Forwarding) -> str:
        app = web.Application(middlewares=[problem_middleware, forwarded_middleware])
        app[FORWARDING] = forwarding
        app.router.add_get("/", view)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}/"

    yield start
    for server in servers:
        await server.close()


async def ask(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
ELSEWHERE = (ipaddress.ip_network("192.0.2.0/24"),)
X_FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "hub.example.org",
    # the client claimed 198.51.100.7; the proxy appended the address it really saw
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
}


async def test_a_trusted_proxy_sets_scheme_host_and_client(serve: Serve) -> None:
    url = await serve(Forwarding(None, LOOPBACK))
    status, doc = await ask(url, X_FORWARDED)
    assert status == 200
    assert doc == {"origin": "https://hub.example.org", "remote": "203.0.113.9"}
    status, doc = await ask(
        url, {"Forwarded": 'for=198.51.100.7, for="203.0.113.9:4711";proto=https;host=h.example'}
    )
    assert doc == {"origin": "https://h.example", "remote": "203.0.113.9"}


async def test_an_untrusted_peer_cannot_claim_tls_or_another_address(serve: Serve) -> None:
    for forwarding in (Forwarding(None, ELSEWHERE), Forwarding(None, ())):
        url = await serve(forwarding)
        status, doc = await ask(url, X_FORWARDED | {"Forwarded": "for=1.2.3.4;proto=https"})
        assert status == 200
        assert doc["origin"] == url.rstrip("/")  # http, the real Host
        assert doc["remote"] == "127.0.0.1"


async def test_public_url_wins_over_forwarded_headers(serve: Serve) -> None:
    url = await serve(Forwarding("https://pgs.wcoomd.org", LOOPBACK))
    _, doc = await ask(url, X_FORWARDED)
    assert doc == {"origin": "https://pgs.wcoomd.org", "remote": "203.0.113.9"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Forwarded": "for=1.2.3.4;proto"},  # a pair without a value
        {"Forwarded": 'for="1.2.3.4'},  # an unterminated quoted string
        {"Forwarded": "proto=gopher"},
        {"Forwarded": "host=evil.example/path"},
        {"X-Forwarded-For": "not-an-address"},
        {"X-Forwarded-Proto": "ftp"},
    ],
    ids=["no-value", "unterminated", "proto", "host", "xff", "xfp"],
)
async def test_malformed_forwarded_headers_from_a_trusted_proxy_are_a_problem(
    serve: Serve,
    headers: dict[str, str],
) -> None:
    url = await serve(Forwarding(None, LOOPBACK))
    status, doc = await ask(url, headers)
    assert status == 400
    assert doc["code"] == "request.bad_forwarded_header"


def _config_with(tmp_path: Path, lines: str) -> Path:
    home = tmp_path / "home"
    write_home(home, port=8443)
    path = home / CONFIG_FILE
    path.write_text(path.read_text().replace("[hub]\n", f"[hub]\n{lines}\n", 1))
    return home


def test_config_reads_public_url_and_trusted_proxies(tmp_path: Path) -> None:
    home = _config_with(
        tmp_path, 'public_url = "HTTPS://Hub.Example.org:8443/"\ntrusted_proxies = ["10.0.0.0/8"]'
    )
    config = load_config(home)
    assert config.public_url == "https://hub.example.org:8443"
    assert config.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    "line",
    [
        'public_url = "https://hub.example.org/pgs"',
        'public_url = "ftp://hub.example.org"',
        "public_url = 8443",
        'trusted_proxies = ["10.0.0.300"]',
        'trusted_proxies = "127.0.0.1"',
    ],
)
def test_config_refuses_bad_proxy_settings(tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError, match=r"public_url|trusted_proxies"):
        load_config(_config_with(tmp_path, line))
