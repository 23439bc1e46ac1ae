"""The place picker in a real browser (Playwright, Debian's Chromium) against a real hub: as the
officer types in a place field, desk.js fills the suggestions from the desk's own search of the
UN/LOCODE list kept on this computer, in the country chosen beside the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from tests.console.test_console_browser import launch
from tests.desk.conftest import NG, enrol_folder, open_desk
from tests.desk.test_desk_places import import_release
from tests.e2e.harness import RunningHub


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_typing_in_a_place_field_suggests_places_of_its_country(
    hub: RunningHub, tmp_path: Path
) -> None:
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng")
    await import_release(hub)
    async with open_desk(hub, tmp_path / "ng") as ng, async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            await page.goto(ng.url)
            await page.click("#unlock")
            await page.wait_for_url(f"{ng.base}/inbox")
            await page.goto(f"{ng.base}/compose/alert")
            await expect(page.locator(".places-missing")).to_have_count(0)
            await page.fill("#f-origin_country", "FR")
            await page.fill("#f-origin_locode", "etien")
            await expect(page.locator("#places option[value=FREBU]")).to_have_count(1)
            await page.fill("#f-origin_country", "NG")
            await page.fill("#f-origin_locode", "lag")
            first = page.locator("#places option").first
            await expect(first).to_have_attribute("value", "NGLOS")
            await expect(first).to_have_text("Lagos (Nigeria) · LA")
            await expect(page.locator("#places option[value=FREBU]")).to_have_count(0)
        finally:
            await browser.close()
