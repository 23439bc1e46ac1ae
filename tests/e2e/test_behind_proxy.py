"""A hub behind a real nginx that terminates TLS (tests/e2e/nginx.py): one nginx and one hub
process for the whole module.

The hub's config.toml sets ``public_url`` to nginx's https origin and trusts only nginx's source
address (127.0.0.2). Through nginx: signed API calls and the WebSocket stream work, the console's
sign-in link names the public https URL and its cookie is ``Secure``, and an upload reaches the
hub while the client is still sending it (nginx does not buffer request bodies). Directly at the
hub, bypassing nginx: a request signed for the hub's own http URL is refused (the public URL is
the one signatures cover). Forwarded headers from untrusted peers: tests/hub/test_proxy_headers.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub import keystore
from pgs_hub.hub.enrolment import bootstrap_admin
from pgs_hub.hub.home import CONFIG_FILE, write_home
from pgs_hub.hub.storage.migrate import upgrade
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import ADMIN, RunningHub, Tls, free_port, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.nginx import PROXY_ADDRESS, Nginx, established_from_proxy, start_nginx
from tests.e2e.rawhttp import call, signature_headers
from tests.e2e.tls_ca import make_ca

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
TOKEN = "metrics-scraper-token"  # noqa: S105 - a test token
WAIT = 20.0  # a failure detector for "nginx has connected to the hub", not a measurement


@dataclass
class Proxied:
    hub: RunningHub  # its url is nginx's public https origin
    direct: str  # the hub's own http URL, bypassing nginx
    hub_port: int
    nginx: Nginx
    ca: Path


def set_hub_options(home: Path, **options: str) -> None:
    """Add ``[hub]`` settings to a config.toml made by write_home (values as TOML text)."""
    path = home / CONFIG_FILE
    lines = "".join(f"{name} = {value}\n" for name, value in options.items())
    path.write_text(path.read_text().replace("[hub]\n", f"[hub]\n{lines}", 1))


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    folder = tmp_path_factory.mktemp("proxied")
    tls = Tls(*make_ca(folder))
    home = folder / "home"
    database_url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    hub_port = free_port()
    authority = write_home(home, port=hub_port)
    proxy = start_nginx(folder / "nginx", [hub_port], tls)
    set_hub_options(
        home, public_url=f'"{proxy.url}"', trusted_proxies=f'["{PROXY_ADDRESS}"]'
    )  # fmt: skip
    with (home / CONFIG_FILE).open("a") as config:
        config.write(f'\n[metrics]\nbearer_token_sha256 = "{sha256(TOKEN.encode()).hexdigest()}"\n')

    async def setup() -> RunningHub:
        await upgrade(database_url)
        admin_folder = await bootstrap_admin(home, database_url, authority, ADMIN)
        process = await start_hub(home, database_url, hub_port)
        hub = RunningHub(
            url=proxy.url, home=home, database_url=database_url, authority=authority,
            admin=keystore.load(admin_folder, None), process=process, log=home / "hub.log",
            ssl=tls.client_context(),
        )  # fmt: skip
        await wait_healthy(proxy.url, process, hub.log, ssl_context=hub.ssl)
        return hub

    try:
        hub = asyncio.run(setup())
    except BaseException:
        proxy.stop()
        raise
    try:
        yield Proxied(hub, f"http://127.0.0.1:{hub_port}", hub_port, proxy, tls.ca)
    finally:
        proxy.stop()
        code = hub.stop()
    log = hub.log.read_text()
    assert code == 0, f"the hub did not stop cleanly ({code}):\n{log}"
    assert "Traceback" not in log, log


async def test_signed_calls_stream_and_console_link_through_nginx(proxied: Proxied) -> None:
    hub = proxied.hub
    await hub.enrol(NG, "ncp")  # signed admin calls, through nginx
    await hub.enrol(GH, "ncp")
    async with hub.client(GH) as gh, hub.client(NG) as ng:
        stream = gh.stream(reconnect=False)  # the signed WebSocket upgrade, through nginx
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)  # (no timing relied on: the item is in the mailbox either way)
        sealed, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
        item = await asyncio.wait_for(first, WAIT)
        await stream.aclose()
        assert item.mid == sealed.header.mid
        opened = await gh.read(sealed.header.mid)  # signed GET, then a signed receipt POST
        assert opened.header.mid == sealed.header.mid
        _, data = await gh.request("POST", "/v1/console/login-links")
    link = json.loads(data)["url"]
    assert link.startswith(f"{proxied.nginx.url}/console/login/"), link
    connector = aiohttp.TCPConnector(ssl=hub.ssl)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        # The link opens a confirmation page; its CSRF cookie is Secure too.
        async with session.get(link, allow_redirects=False) as page:
            assert page.status == 200, await page.text()
            assert "Secure" in page.headers["Set-Cookie"], page.headers["Set-Cookie"]
            found = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', await page.text())
        assert found is not None
        async with session.post(link, data={"csrf": found[1]}, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
            cookie = resp.headers["Set-Cookie"]
    assert "Secure" in cookie, cookie


async def test_the_public_url_is_what_signatures_cover(proxied: Proxied) -> None:
    """Straight to the hub, bypassing nginx: a request signed for the hub's own http URL is
    refused; one signed for the public https URL is accepted (nginx changes nothing it signs)."""
    gh = proxied.hub.people.get(GH) or await proxied.hub.enrol(GH, "ncp")
    async with aiohttp.ClientSession() as session:
        own = await call(session, "GET", f"{proxied.direct}/v1/inbox", key=gh.signing)
        assert (own.status, own.code) == (401, "auth.bad_signature")
        headers = signature_headers(gh.signing, "GET", f"{proxied.nginx.url}/v1/inbox", None)
        async with session.get(f"{proxied.direct}/v1/inbox", headers=headers) as resp:
            assert resp.status == 200, await resp.text()


async def test_an_upload_reaches_the_hub_while_it_is_still_being_sent(proxied: Proxied) -> None:
    """nginx passes the request body on as it comes (``proxy_request_buffering off``): the hub
    has a connection from nginx before the client has sent all of it. The hub, not nginx,
    then answers the (garbage) body with a problem document."""
    context = ssl.create_default_context(cafile=str(proxied.ca))
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", proxied.nginx.port, ssl=context, server_hostname="127.0.0.1"
    )
    total, first = 200_000, 1000
    try:
        before = established_from_proxy(proxied.hub_port)
        writer.write(
            (
                f"POST /v1/envelopes HTTP/1.1\r\nHost: 127.0.0.1:{proxied.nginx.port}\r\n"
                f"Content-Type: application/jose+json\r\nContent-Length: {total}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            + b"x" * first
        )
        await writer.drain()
        deadline = time.monotonic() + WAIT
        while established_from_proxy(proxied.hub_port) <= before:
            assert time.monotonic() < deadline, "nginx held the body back (request buffering)"
            await asyncio.sleep(0.05)
        writer.write(b"x" * (total - first))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 4"), head
    assert b"application/problem+json" in head, head
    assert json.loads(body)["code"] == "crypto.malformed", body


async def test_metrics_need_loopback_or_the_token(proxied: Proxied) -> None:
    """nginx runs on this machine, but a request it forwards is not "local": without the
    configured bearer token, /metrics through it is refused; straight from loopback it is not."""
    connector = aiohttp.TCPConnector(ssl=proxied.hub.ssl)
    async with aiohttp.ClientSession(connector=connector) as session:
        refused = await call(session, "GET", f"{proxied.nginx.url}/metrics")
        assert (refused.status, refused.code) == (403, "metrics.forbidden")
        wrong = await call(
            session, "GET", f"{proxied.nginx.url}/metrics",
            headers={"Authorization": "Bearer not-the-token"},
        )  # fmt: skip
        assert wrong.status == 403
        allowed = await call(
            session, "GET", f"{proxied.nginx.url}/metrics",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )  # fmt: skip
        assert allowed.status == 200
        assert b"# TYPE pgs_http_request_duration_seconds histogram" in allowed.body
        direct = await call(session, "GET", f"{proxied.direct}/metrics")
        assert direct.status == 200


async def test_the_access_log_has_one_json_line_per_request_and_no_content(
    proxied: Proxied,
) -> None:
    hub = proxied.hub
    gh = hub.people.get(GH) or await hub.enrol(GH, "ncp")
    ng = hub.people.get(NG) or await hub.enrol(NG, "ncp")
    async with hub.client(ng) as client:
        sealed, _ = await client.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
    mid = sealed.header.mid
    url = f"{proxied.nginx.url}/v1/envelopes/{mid}?probe=1"
    connector = aiohttp.TCPConnector(ssl=hub.ssl)
    async with aiohttp.ClientSession(connector=connector) as session:
        reply = await call(
            session, "GET", url, key=gh.signing, headers={"X-Request-ID": "case-42.a_b"}
        )
    assert reply.status == 200
    assert reply.headers["X-Request-ID"] == "case-42.a_b"
    lines = [json.loads(line) for line in hub.log.read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "case-42.a_b"]
    assert len(mine) == 1
    assert mine[0]["route"] == "/v1/envelopes/{mid}"  # the template, not the path
    assert mine[0]["status"] == 200
    assert mine[0]["participant"] == GH
    assert mine[0]["remote"] == "127.0.0.1"  # the client nginx saw, not nginx (127.0.0.2)
    assert mine[0]["duration_ms"] >= 0
    access = "\n".join(json.dumps(line) for line in lines)
    assert mid not in access  # no message id, no query string
    assert "probe" not in access
