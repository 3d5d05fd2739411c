"""A real Chromium creates a paste in the editor, views it highlighted and copies it."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

pytestmark = pytest.mark.browser
SOURCE = "def greet(name):\n    return f'hi {name} <b>'\n"


@pytest_asyncio.fixture
async def page(browser_context: Any, live_server: str) -> Any:
    await browser_context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server
    )
    return await browser_context.new_page()


async def test_create_view_copy(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    await page.goto("/paste")
    await page.fill('input[name="title"]', "greeter")
    await page.fill("#paste-content", SOURCE)
    await expect(page.locator("#paste-lines")).to_have_text("3 lines")
    await page.select_option('select[name="language"]', "python")
    await page.press("#paste-content", "Control+Enter")
    await page.wait_for_url("**/p/*")
    await expect(page.locator("h1")).to_have_text("greeter")
    await expect(page.locator(".paste-code")).to_contain_text("return f'hi {name} <b>'")
    await expect(page.locator("#L2")).to_have_count(1)
    await page.click("button[data-copy]")
    await expect(page.locator("button[data-copy]")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == SOURCE
