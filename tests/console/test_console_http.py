"""The console over HTTP (no browser) against a real hub: sign-in, headers, CSRF, scopes, CSV, FR.

Link and session expiry are checked on the storage functions with an explicit ``now``: the hub
process's clock cannot be moved.
"""

from __future__ import annotations

import csv
import io
import re
import time

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.console.routes import SECURITY_HEADERS
from pgs_hub.hub.storage import console_sessions as console_store
from pgs_hub.hub.storage import participants as people
from tests.console.conftest import (
    CM,
    GH,
    GH_AUDITOR,
    GLOBAL_AUDITOR,
    NG,
    WCO,
    login_link,
    make_traffic,
    sign_in,
    signed_in_session,
)
from tests.e2e.harness import ADMIN, RunningHub

PAGES = ("/console/traffic", "/console/log", "/console/audit", "/console/directory")


def assert_secure_headers(resp: aiohttp.ClientResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (resp.url, name)
    csp = resp.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


def assert_no_inline_code(html: str) -> None:
    assert "style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "inline script"
    assert re.search(r"\son[a-z]+=", html) is None, "inline event handler"


async def test_sign_in_links_sessions_headers_and_csrf(hub: RunningHub) -> None:  # noqa: PLR0915
    traffic = await make_traffic(hub)
    anonymous = aiohttp.ClientSession()
    try:
        # Without a session: 401 page with instructions, security headers even so.
        for path in (*PAGES, "/console/log.csv", "/console/nowhere"):
            async with anonymous.get(hub.url + path, allow_redirects=False) as resp:
                assert resp.status in (401, 404)
                assert_secure_headers(resp)
                assert "pgs console" in await resp.text() or resp.status == 404
        # A login link needs a signed request.
        async with anonymous.post(hub.url + "/v1/console/login-links") as resp:
            assert resp.status == 401
        link = await login_link(hub, GLOBAL_AUDITOR)
        token = link.rsplit("/", 1)[1]
        assert len(token) == 43
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            resp = await sign_in(browser, link)  # keeps the sign-in page's cookie, as browsers do
        assert resp.status == 303
        assert resp.headers["Location"] == "/console"  # a clean URL: no token
        assert_secure_headers(resp)
        cookie = next(
            c for c in resp.headers.getall("Set-Cookie") if c.startswith(f"{sessions.COOKIE}=")
        )
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "path=/console", "samesite=strict", "max-age=28800"} <= flags
        assert "secure" not in flags  # plain HTTP on loopback; Secure under TLS
        session_id = cookie.split(";")[0].split("=", 1)[1]
        # The link works once.
        async with anonymous.get(link, allow_redirects=False) as resp:
            assert resp.status == 403
            assert "already used" in await resp.text()
            assert "Set-Cookie" not in resp.headers
        async with anonymous.get(hub.url + "/console/login/not-a-token") as resp:
            assert resp.status == 403
    finally:
        await anonymous.close()

    # Nothing secret in the database: only hashes.
    from pgs_hub.hub.storage.engine import create_engine

    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            found = await console_store.find_session(conn, session_id, int(time.time()))
            assert found is not None
            assert found.participant == GLOBAL_AUDITOR
            from sqlalchemy import select

            from pgs_hub.hub.storage.tables import console_login_links, console_sessions

            stored = [bytes(r[0]) for r in await conn.execute(select(console_sessions.c.id_hash))]
            stored += [
                bytes(r[0]) for r in await conn.execute(select(console_login_links.c.token_hash))
            ]
            assert console_store.digest(session_id) in stored
            assert all(session_id.encode() not in s and token.encode() not in s for s in stored)
    finally:
        await engine.dispose()

    web = await signed_in_session(hub, GLOBAL_AUDITOR)
    try:
        async with web.get(hub.url + "/console", allow_redirects=False) as resp:
            assert resp.status == 303
            assert resp.headers["Location"] == "/console/traffic"
        for path in PAGES:
            async with web.get(hub.url + path) as resp:
                assert resp.status == 200, path
                assert_secure_headers(resp)
                html = await resp.text()
                assert_no_inline_code(html)
                assert '<html lang="en" dir="ltr">' in html
                assert traffic.alert not in html or path == "/console/log"  # ids only on the log
        async with web.get(hub.url + "/console/static/console.css") as resp:
            assert resp.status == 200
            assert_secure_headers(resp)
        # Sign-out needs the session's CSRF token.
        async with web.get(hub.url + "/console/log") as resp:
            html = await resp.text()
        csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
        assert csrf is not None
        for bad in ({}, {"csrf": "0" * 64}):
            async with web.post(hub.url + "/console/logout", data=bad) as resp:
                assert resp.status == 403
                assert_secure_headers(resp)
        async with web.get(hub.url + "/console/log") as resp:
            assert resp.status == 200  # still signed in
        async with web.post(hub.url + "/console/logout", data={"csrf": csrf.group(1)}) as resp:
            assert resp.status == 200
            assert "signed out" in await resp.text()
        async with web.get(hub.url + "/console/log") as resp:
            assert resp.status == 401  # the session is gone
    finally:
        await web.close()


async def test_scopes_csv_and_french(hub: RunningHub) -> None:  # noqa: PLR0915 - one hub
    traffic = await make_traffic(hub)
    await hub.enrol("NG-AUDIT", "auditor", scope="NG")
    opened: list[aiohttp.ClientSession] = []
    try:
        for who in (GLOBAL_AUDITOR, GH_AUDITOR, CM, ADMIN, WCO):
            opened.append(await signed_in_session(hub, who))
        everyone, ghana, cameroon, admin, wco = opened
        async with everyone.get(hub.url + "/console/log") as resp:
            html = await resp.text()
        for mid in (traffic.alert, traffic.seizure, traffic.notice, traffic.cm_alert):
            assert mid in html
        async with everyone.get(hub.url + "/console/traffic") as resp:
            html = await resp.text()
        assert "<svg" in html
        assert 'class="bar k-alert"' in html
        assert "k-seizure" in html
        assert "West and Central Africa" in html  # the by-region chart
        # A Ghana auditor sees what involves Ghana only, and is refused Nigeria's data.
        async with ghana.get(hub.url + "/console/log") as resp:
            html = await resp.text()
        assert traffic.alert in html
        assert traffic.seizure in html
        assert traffic.notice in html
        assert traffic.cm_alert not in html
        for path in ("/console/log?country=NG", "/console/traffic?country=NG",
                     "/console/log.csv?country=ng"):  # fmt: skip
            async with ghana.get(hub.url + path) as resp:
                assert resp.status == 403, path
                assert "limited to GH" in await resp.text() or path.endswith("ng")
        async with ghana.get(hub.url + f"/console/log?mid={traffic.cm_alert}") as resp:
            assert "No message matches" in await resp.text()
        async with ghana.get(hub.url + "/console/log.csv") as resp:
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
        assert {r["mid"] for r in rows} == {traffic.alert, traffic.seizure, traffic.notice}
        # An NCP sees its own messages only, and no traffic page.
        async with cameroon.get(hub.url + "/console/log") as resp:
            html = await resp.text()
        assert traffic.cm_alert in html
        assert traffic.alert not in html
        async with cameroon.get(hub.url + "/console/traffic") as resp:
            assert resp.status == 403
        async with cameroon.get(hub.url + "/console/audit") as resp:
            assert resp.status == 403
        # An admin sees the directory and the audit log, not traffic.
        for path, status in (("/console/directory", 200), ("/console/audit", 200),
                             ("/console/log", 403), ("/console/traffic", 403)):  # fmt: skip
            async with admin.get(hub.url + path) as resp:
                assert resp.status == status, path
        # CSV export: metadata, delivery states, filters applied, as an attachment.
        async with everyone.get(hub.url + "/console/log.csv?kind=alert") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/csv")
            assert "attachment" in resp.headers["Content-Disposition"]
            assert_secure_headers(resp)
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
        assert {r["mid"] for r in rows} == {traffic.alert, traffic.cm_alert}
        alert = next(r for r in rows if r["mid"] == traffic.alert)
        assert alert["sender"] == NG
        assert alert["sender_country"] == "NG"
        assert alert["kind"] == "alert"
        assert alert["tlp"].upper() == "AMBER"
        assert int(alert["size"]) > 0
        assert set(alert["recipients"].split(";")) == {f"{GH}:read", f"{WCO}:read"}
        # Filters: participant, kind, period, message id; bad input is a 400 page.
        async with everyone.get(hub.url + f"/console/log?participant={CM}") as resp:
            html = await resp.text()
        assert traffic.cm_alert in html
        assert traffic.seizure not in html
        async with everyone.get(hub.url + "/console/log?from=2001-01-01&to=2001-01-31") as resp:
            assert "No message matches" in await resp.text()
        for bad in (
            "from=2024-13-01",
            "kind=<script>",
            "mid=x%27",
            "from=2024-02-01&to=2024-01-01",
        ):
            async with everyone.get(hub.url + f"/console/log?{bad}") as resp:
                assert resp.status == 400, bad
                assert "<script>" not in await resp.text()
        # French: ?lang=fr switches and is remembered by a cookie.
        async with wco.get(hub.url + "/console/traffic?lang=fr") as resp:
            html = await resp.text()
            assert "pgs_lang=fr" in resp.headers.get("Set-Cookie", "")
        assert '<html lang="fr" dir="ltr">' in html
        assert "Messages par jour, par type" in html
        assert "Afrique occidentale et centrale" in html
        async with wco.get(hub.url + "/console/log") as resp:
            html = await resp.text()
        assert "Journal des messages" in html
        assert "Exporter en CSV" in html
        assert re.search(
            r"\d{1,2} (janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.)"
            r" \d{4}, \d\d:\d\d UTC",
            html,
        )
        async with wco.get(hub.url + "/console/audit") as resp:
            html = await resp.text()
        assert "signature valide" in html
        assert 'id="checkpoint-note"' in html
        async with wco.get(hub.url + "/console/directory?lang=en") as resp:
            html = await resp.text()
        assert "Key events" in html
        assert "enrolment" in html
        assert hub.people[GH].signing.kid in html
        # Audit: inclusion proof for an entry, checked on the server; scope applies.
        async with everyone.get(hub.url + f"/console/audit?mid={traffic.alert}") as resp:
            html = await resp.text()
        assert "proof verified" in html
        assert 'id="inclusion-result"' in html
        async with ghana.get(hub.url + f"/console/audit?mid={traffic.cm_alert}") as resp:
            assert "No entry you may see" in await resp.text()
    finally:
        for s in opened:
            await s.close()


async def test_links_and_sessions_expire(engine: AsyncEngine) -> None:
    now = 1_800_000_000
    async with engine.begin() as conn:
        await people.insert_participant(
            conn,
            people.ParticipantRow(GH, "GH", "ncp", None, "active", now, now),
        )
        token = await console_store.create_link(conn, GH, now)
        late = await console_store.create_link(conn, GH, now)
    async with engine.begin() as conn:
        assert await console_store.consume_link(conn, late, now + sessions.LINK_SECONDS) is None
        assert await console_store.consume_link(conn, token, now + sessions.LINK_SECONDS - 1) == GH
        assert await console_store.consume_link(conn, token, now + 1) is None  # used
        opened = await console_store.open_session(conn, GH, now)
    async with engine.connect() as conn:
        expires = now + sessions.SESSION_SECONDS
        assert await console_store.find_session(conn, opened.id, expires - 1) is not None
        assert await console_store.find_session(conn, opened.id, expires) is None
        assert await console_store.find_session(conn, "x" * 43, now) is None
    assert sessions.csrf_ok(opened.id, sessions.csrf_token(opened.id))
    assert not sessions.csrf_ok(opened.id, None)
    assert not sessions.csrf_ok("y" * 43, sessions.csrf_token(opened.id))
