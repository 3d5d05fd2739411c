"""A real Chromium shortens a URL from the keyboard and copies the short link."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

pytestmark = pytest.mark.browser
TARGET = "https://example.com/lizards/basking"


@pytest_asyncio.fixture
async def page(browser_context: Any, live_server: str) -> Any:
    await browser_context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server
    )
    return await browser_context.new_page()


async def test_create_then_copy(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    await page.goto("/links")
    await expect(page.locator("#link-url")).to_be_focused()
    await page.keyboard.type("javascript:alert(1)")
    await page.keyboard.press("Enter")
    await expect(page.locator("#link-error")).to_contain_text("only http")
    await page.fill("#link-url", TARGET)
    await page.click("summary")
    await page.fill('input[name="slug"]', "basking")
    await page.press('input[name="slug"]', "Enter")
    short = f"{live_server}/s/basking"
    await expect(page.locator("#link-short")).to_have_text(short)
    await expect(page.locator("#link-copy")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#link-copy")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == short
    await expect(page.locator("#link-qr")).to_have_attribute("src", short + "/qr.svg")
    await page.set_viewport_size({"width": 375, "height": 700})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
