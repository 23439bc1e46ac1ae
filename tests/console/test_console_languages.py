"""The console in the officer's language (issue 13, item 6): the browser's Accept-Language, the
switch remembered in a cookie and kept through the sign-in link, its confirmation and redirects;
Arabic right to left with user data isolated in <bdi>; dates and numbers in the locale's forms."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from babel import Locale

from pgs_hub.hub.console.routes import LANG_COOKIE
from pgs_hub.hub.i18n import LANGS, NATIVE_NAMES, t
from tests.console.conftest import NG, login_link, signed_in_session
from tests.e2e.harness import RunningHub


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is tested here is the console's, not storage's (one hub, not two)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1


async def _confirm(session: aiohttp.ClientSession, link: str) -> tuple[str, aiohttp.ClientResponse]:
    """Open a sign-in link, then confirm on its page: (the page, the confirming answer)."""
    async with session.get(link, allow_redirects=False) as page:
        assert page.status == 200
        html = await page.text()
    found = re.search(r'<form method="post" action="([^"]+)"', html)
    csrf = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', html)
    assert found is not None
    assert csrf is not None
    action = found[1].replace("&amp;", "&")
    origin = link.split("/console/", maxsplit=1)[0]
    async with session.post(origin + action, data={"csrf": csrf[1]}, allow_redirects=False) as r:
        await r.read()
    return html, r


async def test_arabic_is_right_to_left_with_isolated_ids_and_arabic_dates(hub: RunningHub) -> None:
    await hub.enrol(NG, "ncp")
    officer = await signed_in_session(hub, NG)
    try:
        async with officer.get(hub.url + "/console/directory?lang=ar") as resp:
            assert resp.status == 200
            html = await resp.text()
    finally:
        await officer.close()
    assert '<html lang="ar" dir="rtl">' in html
    assert t("console.directory.title", "ar") in html
    assert t("console.sign_out", "ar") in html
    assert f"<bdi>{NG}</bdi>" in html  # in the table and in "signed in as"
    months = Locale.parse("ar").months["format"]["abbreviated"].values()
    assert any(f" {month} " in html for month in months), html  # key events, dated in Arabic
    assert "console.css" in html
    # the other pages' switch: each language by its own name, the current one left out
    switch = re.search(r'<nav id="lang-switch".*?</nav>', html, re.S)
    assert switch is not None
    for lang in LANGS:
        assert (NATIVE_NAMES[lang] in switch[0]) == (lang != "ar"), lang
    assert 'hreflang="en" lang="en" dir="ltr"' in switch[0]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.5", "pt"),
        ("de-DE, es;q=0.5, en;q=0.1", "es"),
        ("ar-MA", "ar"),
        ("fr;q=0, en-GB", "en"),
        ("de", "en"),
    ],
    ids=["pt-br", "first-shipped", "ar-ma", "refused-fr", "unshipped"],
)
async def test_the_language_follows_the_browser(
    hub: RunningHub, accept: str, expected: str
) -> None:
    async with (
        _browser() as browser,
        browser.get(hub.url + "/console/traffic", headers={"Accept-Language": accept}) as resp,
    ):
        assert resp.status == 401
        html = await resp.text()
    assert f'<html lang="{expected}"' in html
    assert t("console.error.unauthenticated", expected) in html  # the error page too


async def test_the_switch_is_remembered_through_sign_in(hub: RunningHub) -> None:
    """A language chosen before signing in (a cookie) holds on the confirmation page, through the
    sign-in redirects and on the pages after them, whatever the browser prefers."""
    await hub.enrol(NG, "ncp")
    english = {"Accept-Language": "en"}
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), headers=english
    ) as browser:
        async with browser.get(hub.url + "/console/traffic?lang=es") as resp:
            assert resp.status == 401
            assert '<html lang="es"' in await resp.text()
            cookie = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith(LANG_COOKIE))
        assert {"samesite=lax", "httponly"} <= {p.strip().lower() for p in cookie.split(";")}
        html, confirmed = await _confirm(browser, await login_link(hub, NG))
        assert t("console.login.title", "es") in html
        assert t("console.login.confirm", "es", who="").split("<")[0][:20] in html
        assert confirmed.status == 303
        async with browser.get(hub.url + confirmed.headers["Location"]) as page:
            assert page.status == 200
            assert page.url.path == "/console/log"  # /console sent it on to the officer's page
            html = await page.text()
        assert '<html lang="es" dir="ltr">' in html
        assert t("console.log.title", "es") in html


async def test_a_language_chosen_on_the_link_page_stays_after_sign_in(hub: RunningHub) -> None:
    """The switch on the confirmation page itself (``?lang=`` on the link): the form keeps it,
    the sign-in answer remembers it, and the console opens in it."""
    await hub.enrol(NG, "ncp")
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept-Language": "fr"}
    ) as browser:
        link = await login_link(hub, NG)
        html, confirmed = await _confirm(browser, link + "?lang=ar")
        assert '<html lang="ar" dir="rtl">' in html
        assert t("console.login.button", "ar", who=f"<bdi>{NG}</bdi>") in html
        assert confirmed.status == 303
        assert any(
            c.startswith(f"{LANG_COOKIE}=ar;") for c in confirmed.headers.getall("Set-Cookie")
        )
        async with browser.get(hub.url + confirmed.headers["Location"]) as page:
            html = await page.text()
        assert '<html lang="ar" dir="rtl">' in html
        assert t("console.log.title", "ar") in html
