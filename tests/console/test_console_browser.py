"""The console in a real browser: Playwright drives Debian's Chromium against a real hub with real
traffic. Screenshots go to test-artifacts/console/; with PGS_WRITE_SCREENSHOTS=1 one per page and
language is also written to docs/screenshots/ (the set the documentation shows).

Chromium is required: if /usr/bin/chromium is missing these tests fail (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from pgs_hub.hub.i18n import t
from tests.console.conftest import GH_AUDITOR, WCO, login_link, make_traffic
from tests.e2e.harness import RunningHub

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
DOCS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the console's browser tests need Debian's Chromium. Install"
            " it with `apt-get update && apt-get install -y chromium` (as root); .ci/run does.",
            pytrace=False,
        )


async def shot(page: Page, name: str, *, doc: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    if doc and os.environ.get("PGS_WRITE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"console-{name}.png")


async def launch(playwright: object) -> Browser:
    require_chromium()
    browser: Browser = await playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=str(CHROMIUM), headless=True, args=ARGS
    )
    return browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_console_in_a_real_browser(hub: RunningHub) -> None:  # noqa: PLR0915 - one hub
    require_chromium()
    traffic = await make_traffic(hub)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context(viewport=VIEWPORT, accept_downloads=True)
            page = await context.new_page()
            # Sign in through a one-time link and its confirmation page: redirected to a clean URL,
            # the link is then spent.
            link = await login_link(hub, WCO)
            await page.goto(link)
            await page.click("#confirm-sign-in")
            await page.wait_for_url(f"{hub.url}/console/traffic")
            assert page.url == f"{hub.url}/console/traffic"
            await expect(page.locator("svg.chart").first).to_be_visible()
            assert await page.locator("svg.chart rect.bar").count() >= 3
            assert await page.locator("svg.chart rect.k-seizure").count() >= 1
            await shot(page, "traffic-en")
            refused = await page.goto(link)
            assert refused is not None
            assert refused.status == 403
            await expect(page.locator("main")).to_contain_text("already used")
            await shot(page, "link-reused-en", doc=False)

            # Filter the message log by kind (keyboard-reachable form), then export CSV.
            await page.goto(f"{hub.url}/console/log")
            await expect(page.locator("tbody tr")).to_have_count(4)
            await page.select_option("#f-kind", "seizure")
            await page.locator("form.filters button[type=submit]").press("Enter")
            await expect(page.locator("tbody tr")).to_have_count(1)
            await expect(page.locator("tbody")).to_contain_text(traffic.seizure)
            assert "kind=seizure" in page.url
            await shot(page, "log-en")
            async with page.expect_download() as info:
                await page.click("#csv-link")
            download = await info.value
            assert download.suggested_filename == "pgs-message-log.csv"
            text = Path(await download.path()).read_text()
            assert traffic.seizure in text
            assert traffic.alert not in text
            assert text.startswith("accepted_at,mid,sender")

            # The checkpoint is verified in the browser (WebCrypto Ed25519) beside the hub's check.
            await page.goto(f"{hub.url}/console/audit")
            await expect(page.locator("#browser-result")).to_have_text(
                t("console.audit.browser_ok", "en")
            )
            await expect(page.locator("#server-result")).to_have_class("ok")
            await page.fill("#f-mid", traffic.alert)
            await page.locator("#f-mid").press("Enter")
            await expect(page.locator("#inclusion-result")).to_contain_text("proof verified")
            await shot(page, "audit-en")
            # The browser's check is real: an altered note fails it.
            await page.evaluate(
                "const n = document.getElementById('checkpoint-note');"
                " n.textContent = n.textContent"
                ".replace(/\\n(\\d+)\\n/, (m, d) => `\\n${+d + 1}\\n`);"
            )
            await page.add_script_tag(url="/console/static/verify-checkpoint.js")
            await expect(page.locator("#browser-result")).to_have_text(
                t("console.audit.browser_bad", "en")
            )
            await page.goto(f"{hub.url}/console/directory")
            await expect(page.locator("main")).to_contain_text("West and Central Africa")
            await shot(page, "directory-en")

            # Switch to French: remembered for the next pages.
            await page.click("#lang-fr")
            await expect(page.locator("html")).to_have_attribute("lang", "fr")
            await expect(page.locator("h1")).to_have_text("Annuaire")
            await shot(page, "directory-fr")
            await page.goto(f"{hub.url}/console/audit")
            await expect(page.locator("#browser-result")).to_have_text(
                t("console.audit.browser_ok", "fr")
            )
            await shot(page, "audit-fr")
            await page.goto(f"{hub.url}/console/traffic")
            await expect(page.locator("h2#per-day")).to_have_text("Messages par jour, par type")
            await shot(page, "traffic-fr")
            await page.goto(f"{hub.url}/console/log?kind=alert")
            await expect(page.locator("main")).to_contain_text("Métadonnées seulement")
            await shot(page, "log-fr")
            # Arabic: the page turns right to left, the ids in it keep their order (<bdi>).
            await page.click("#lang-ar")
            await expect(page.locator("html")).to_have_attribute("dir", "rtl")
            await expect(page.locator("h1")).to_have_text(t("console.nav.log", "ar"))
            assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            await expect(page.locator("tbody bdi").first).to_be_visible()
            await shot(page, "log-ar", doc=False)
            await context.close()

            # A country auditor sees Ghana's traffic, and is refused Nigeria's.
            scoped = await browser.new_context(viewport=VIEWPORT)
            page = await scoped.new_page()
            await page.goto(await login_link(hub, GH_AUDITOR))
            await page.click("#confirm-sign-in")
            await expect(page.locator("#whoami")).to_contain_text(GH_AUDITOR)
            await page.goto(f"{hub.url}/console/log")
            await expect(page.locator("tbody")).not_to_contain_text(traffic.cm_alert)
            response = await page.goto(f"{hub.url}/console/log?country=NG")
            assert response is not None
            assert response.status == 403
            await expect(page.locator("main")).to_contain_text("limited to GH")
            await shot(page, "country-refused-en", doc=False)
            # On a phone-sized screen the page still reads (no horizontal page scroll).
            await page.set_viewport_size({"width": 390, "height": 800})
            await page.goto(f"{hub.url}/console/traffic")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 400
            await shot(page, "traffic-phone-en", doc=False)
            await scoped.close()
        finally:
            await browser.close()
