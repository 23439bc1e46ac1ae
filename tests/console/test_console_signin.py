"""Console sign-in by confirmation (issue 12, item 6) and the "Security events" page (item 4).

A one-time link opens a page that names the account it signs in as, and the browser's current
account if it has one; only a POST from that page, with its CSRF token, signs in. Opening a link
never replaces a session by itself (login CSRF)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub.console import session as sessions
from pgs_hub.hub.console.signin import LOGIN_CSRF_COOKIE
from tests.console.conftest import GH_AUDITOR, GLOBAL_AUDITOR, NG, login_link, signed_in_session
from tests.e2e.harness import RunningHub
from tests.e2e.rawhttp import call


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is tested here is the console's, not storage's (one hub, not two)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', html)
    assert found is not None, html
    return found[1]


def _session_cookie(session: aiohttp.ClientSession) -> str:
    return next(c.value for c in session.cookie_jar if c.key == sessions.COOKIE)


async def test_a_link_asks_before_signing_in_and_never_replaces_a_session_silently(
    hub: RunningHub,
) -> None:
    await hub.enrol(NG, "ncp")
    await hub.enrol(GH_AUDITOR, "auditor", scope="GH")
    browser = await signed_in_session(hub, NG)
    try:
        before = _session_cookie(browser)
        link = await login_link(hub, GH_AUDITOR)  # somebody else's link, sent to this browser
        for _ in range(2):  # opening it changes nothing, however often
            async with browser.get(link, allow_redirects=False) as page:
                assert page.status == 200
                html = await page.text()
                cookies = page.headers.getall("Set-Cookie", [])
            assert GH_AUDITOR in html
            assert f"signed in as <bdi>{NG}</bdi>" in html  # who is signed in now, said plainly
            assert not any(c.startswith(f"{sessions.COOKIE}=") for c in cookies)
            login_cookie = next(c for c in cookies if c.startswith(f"{LOGIN_CSRF_COOKIE}="))
            flags = {part.strip().lower() for part in login_cookie.split(";")[1:]}
            assert {"httponly", "samesite=strict"} <= flags
        assert _session_cookie(browser) == before
        async with browser.get(hub.url + "/console/log") as resp:
            assert resp.status == 200
            assert NG in await resp.text()

        # A POST without the page's token, or with another, signs nobody in.
        elsewhere = aiohttp.ClientSession()  # another browser: no login cookie
        try:
            for client, data in (
                (browser, {}), (browser, {"csrf": "x" * 43}), (elsewhere, {"csrf": _csrf(html)}),
            ):  # fmt: skip
                async with client.post(link, data=data, allow_redirects=False) as resp:
                    assert resp.status == 403
                    assert not any(
                        c.startswith(f"{sessions.COOKIE}=")
                        for c in resp.headers.getall("Set-Cookie", [])
                    )
        finally:
            await elsewhere.close()
        assert _session_cookie(browser) == before

        # Confirmed from the page: signed in as the link's account; the old session is over.
        async with browser.post(link, data={"csrf": _csrf(html)}, allow_redirects=False) as resp:
            assert resp.status == 303
        after = _session_cookie(browser)
        assert after != before
        async with (
            aiohttp.ClientSession() as old,
            old.get(
                hub.url + "/console/log", headers={"Cookie": f"{sessions.COOKIE}={before}"}
            ) as resp,
        ):
            assert resp.status == 401
        async with browser.get(hub.url + "/console/traffic") as resp:
            assert resp.status == 200
            page_html = await resp.text()
        assert GH_AUDITOR in page_html
        # Every form that changes something carries the session's CSRF token.
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", page_html, re.S):
            assert 'name="csrf"' in form
        # The link is spent.
        async with browser.get(link, allow_redirects=False) as resp:
            assert resp.status == 403
    finally:
        await browser.close()
    await _auditors_see_security_events(hub)


async def _auditors_see_security_events(hub: RunningHub) -> None:
    """The "Security events" page: for auditors, in English and French."""
    await hub.enrol(GLOBAL_AUDITOR, "auditor")
    async with aiohttp.ClientSession() as session:
        for _ in range(3):  # a participant knocking at the auditors' door
            reply = await call(
                session, "GET", f"{hub.url}/v1/audit/security-events", key=hub.people[NG].signing
            )
            assert reply.status == 403
    auditor = await signed_in_session(hub, GLOBAL_AUDITOR)
    try:
        async with auditor.get(hub.url + "/console/security") as resp:
            assert resp.status == 200
            html = await resp.text()
        assert "Security events" in html
        row = re.search(rf"<tr><td>[^<]*</td><td><bdi>{NG}</bdi></td>.*?</tr>", html)
        assert row is not None, html
        assert "audit.forbidden" in row[0]
        assert ">3<" in row[0]
        async with auditor.get(hub.url + "/console/security?lang=fr") as resp:
            assert "Événements de sécurité" in await resp.text()
        async with auditor.get(hub.url + "/console/security?hours=nope") as resp:
            assert resp.status == 400
    finally:
        await auditor.close()
    participant = await signed_in_session(hub, NG)
    try:
        async with participant.get(hub.url + "/console/security") as resp:
            assert resp.status == 403
    finally:
        await participant.close()
