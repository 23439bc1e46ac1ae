"""The desk in a real browser (Playwright, Debian's Chromium) against a real hub: Nigeria sends an
alert with the pickers, Ghana sees it arrive live, reads it and answers with a seizure notice,
Nigeria sees the thread and the outcome; in English, French and Arabic. With
PGS_WRITE_SCREENSHOTS=1 the pages are also written to docs/screenshots/ at desktop (1280) and
phone (390) widths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.console.test_console_browser import launch
from tests.desk.conftest import GH, NG, WCO, enrol_folder, open_desk
from tests.e2e.harness import RunningHub

DOCS = Path(__file__).parents[2] / "docs" / "screenshots"
LOCALES = {"en": "en-GB", "fr": "fr-FR", "ar": "ar-EG"}
#: The screenshots the documentation shows (every page in English, a few in French and Arabic).
DOCUMENTED = frozenset(
    {
        "compose-en",
        "inbox-en",
        "read-en",
        "thread-en",
        "inbox-fr",
        "read-fr",
        "read-ar",
        "thread-ar",
    }
)


RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) {
    window.__notifications.push({title: title, body: (options || {}).body || ""});
  }
};
"""


async def shot(page: Page, name: str) -> None:
    if os.environ.get("PGS_WRITE_SCREENSHOTS") != "1" or name not in DOCUMENTED:
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    for width, label in ((1280, "desktop"), (390, "phone")):
        await page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
        await page.screenshot(path=str(DOCS / f"desk-{name}-{label}.png"))
    await page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
async def test_alert_to_seizure_in_two_browsers(  # noqa: PLR0915 - one story
    hub: RunningHub, tmp_path: Path, lang: str
) -> None:
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng")
    await enrol_folder(hub, GH, "ncp", tmp_path / "gh")
    await hub.enrol(WCO, "wco")
    async with (
        open_desk(hub, tmp_path / "ng") as ng,
        open_desk(hub, tmp_path / "gh") as gh,
        async_playwright() as playwright,
    ):
        browser = await launch(playwright)
        try:
            viewport = {"width": 1280, "height": 900}
            nigeria = await (
                await browser.new_context(locale=LOCALES[lang], viewport=viewport)
            ).new_page()
            ghana_context = await browser.new_context(locale=LOCALES[lang], viewport=viewport)
            # The browser notification: Chromium headless shows none, so a recorder stands in
            # for window.Notification with the permission granted, and keeps what it was given.
            await ghana_context.add_init_script(RECORD_NOTIFICATIONS)
            ghana = await ghana_context.new_page()
            for page, desk in ((nigeria, ng), (ghana, gh)):
                await page.goto(desk.url)
                await page.click("#unlock")
                await page.wait_for_url(f"{desk.base}/inbox")
            assert await ghana.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
            # Nigeria composes with the pickers: filter the recipients, codes from the lists.
            await nigeria.goto(f"{ng.base}/compose/alert")
            await nigeria.fill("#to-filter", "GH-")
            await expect(nigeria.locator(f"input[name=to][value='{WCO}']")).to_be_hidden()
            await nigeria.check(f"input[name=to][value='{GH}']")
            await nigeria.fill("#to-filter", "")
            await nigeria.check(f"input[name=to][value='{WCO}']")
            # The routing preview (what the hub sees) follows the choices.
            await expect(nigeria.locator("#routing-to")).to_have_text(f"{GH}, {WCO}")
            await nigeria.select_option("#f-tlp", "AMBER+STRICT")
            await expect(nigeria.locator("#routing-tlp")).to_have_text("AMBER+STRICT")
            assert await nigeria.locator("#commodities option[value=AN]").count() == 1
            await nigeria.fill("#f-subject", "Ammonium nitrate, 24 t, Lagos to Tema")
            await nigeria.fill("#f-commodity", "AN")
            await nigeria.fill("#f-description", "Ammonium nitrate in 50 kg bags")
            await nigeria.fill("#f-quantity", "24")
            await nigeria.fill("#f-unit", "TNE")
            await nigeria.select_option("#f-mode", "sea")
            await nigeria.fill("#f-destination_country", "GH")
            await nigeria.fill("#f-containers", "CSQU3054383")
            await shot(nigeria, f"compose-{lang}")
            await nigeria.click("#send")
            await nigeria.wait_for_url(f"{ng.base}/m/*")
            alert = nigeria.url.split("/m/")[1].split("?")[0]
            # Ghana: it arrives live (Server-Sent Events), then reads rendered.
            await expect(ghana.locator("#live-open")).to_be_visible(timeout=15000)
            await expect(ghana.locator(f"tr[data-mid='{alert}']")).to_be_visible()
            notes = await ghana.evaluate("window.__notifications")
            assert len(notes) == 1, notes
            assert NG in notes[0]["body"]
            assert "Ammonium" not in json.dumps(notes)  # sender and kind, never the content
            await shot(ghana, f"inbox-{lang}")
            await ghana.click("#live-open")
            await ghana.wait_for_url(f"{gh.base}/m/{alert}")
            await expect(ghana.locator("dl.fields").first).to_contain_text("TNE")
            await expect(ghana.locator("p.tlp-banner")).to_contain_text("TLP:AMBER")
            await expect(ghana.locator("bdi", has_text="CSQU3054383").first).to_be_visible()
            await shot(ghana, f"read-{lang}")
            await ghana.click("#seizure-following")
            await expect(ghana.locator("#f-commodity")).to_have_value("AN")
            await ghana.click("#send")
            await ghana.wait_for_url(f"{gh.base}/m/*")
            # Nigeria: the thread holds both, and the outcome is counted on the alert.
            for _ in range(50):
                await nigeria.goto(f"{ng.base}/m/{alert}")
                if await nigeria.locator("ol.thread li").count() == 2:
                    break
                await nigeria.wait_for_timeout(200)
            await expect(nigeria.locator("ol.thread li")).to_have_count(2)
            await expect(nigeria.locator("li.outcome strong")).to_have_text("1")
            await shot(nigeria, f"thread-{lang}")
        finally:
            await browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_keyboard_only(hub: RunningHub, tmp_path: Path) -> None:
    """Unlock and reach the inbox and a form with the keyboard alone: the skip link comes first,
    every control is reachable by Tab, and the focus is always visible."""
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng")
    async with open_desk(hub, tmp_path / "ng") as ng, async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            await page.goto(ng.url)
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.className") == "skip"
            for _ in range(10):
                await page.keyboard.press("Tab")
                if await page.evaluate("document.activeElement.id") == "unlock":
                    break
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{ng.base}/inbox")
            for _ in range(10):
                await page.keyboard.press("Tab")
                if await page.evaluate("document.activeElement.textContent") == "New alert":
                    break
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{ng.base}/compose/alert")
            outline = await page.evaluate(
                "(() => { const e = document.querySelector('#to-filter'); e.focus();"
                " return getComputedStyle(e).outlineStyle; })()"
            )
            assert outline == "solid"
        finally:
            await browser.close()
