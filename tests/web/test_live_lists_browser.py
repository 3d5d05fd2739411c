"""Lists and counters follow the action just done, without a reload, in a real Chromium at a
desktop's and a phone's width: the new row is on screen and its buttons work at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.browser import (
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_tappable,
    logged_in_page,
)
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.browser


async def open_as_new_user(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int], url: str
) -> Any:
    """Log a fresh user in at the given size and open `url`."""
    page = await logged_in_page(browser_context, await register(client), PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto(url)
    return page


@VIEWPORTS
async def test_new_link_joins_the_list(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    page = await open_as_new_user(browser_context, client, viewport, "/links")
    await expect(page.locator("#links-empty")).to_be_visible()
    for url in ["https://example.com/first", "https://example.com/second"]:
        await page.fill("#link-url", url)
        await page.keyboard.press("Enter")
        await expect(page.locator("#link-short")).to_contain_text("/s/")
        await expect(page.locator("#link-error")).to_be_empty()
    await expect(page.locator("#links-empty")).to_be_hidden()
    rows = page.locator(".links-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("https://example.com/second")
    short = (await page.locator("#link-short").inner_text()).rsplit("/", 1)[-1]
    await expect(rows.first.locator("a").first).to_have_text(f"/s/{short}")
    await assert_no_sideways_scroll(page)
    stats = rows.first.get_by_role("link", name="Stats & edit")
    await assert_tappable(stats)
    await stats.click()
    await page.wait_for_url(f"**/links/{short}/stats")


@VIEWPORTS
async def test_new_token_joins_the_table(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    page = await open_as_new_user(browser_context, client, viewport, "/account")
    rows = page.locator("#token-table tbody tr")
    await expect(rows).to_have_text(["No tokens yet."])
    await page.fill("#token-form input[name=name]", "laptop script")
    await page.click("#token-form button[type=submit]")
    await expect(page.locator("#token-created")).to_be_visible()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("laptop script")
    await expect(rows.first).not_to_contain_text("No tokens yet")
    prefix = (await page.locator("#token-value").inner_text())[:4]
    await expect(rows.first.locator("code")).to_contain_text(prefix)
    await assert_no_sideways_scroll(page)
    page.on("dialog", lambda dialog: dialog.accept())
    revoke = rows.first.get_by_role("button", name="Revoke")
    await assert_tappable(revoke)
    await revoke.click()  # the new row works at once
    await expect(rows).to_have_count(0)


@VIEWPORTS
async def test_storage_bar_follows_uploads(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    page = await open_as_new_user(browser_context, client, viewport, "/files")
    usage = page.locator("#storage-usage strong")
    await expect(usage).to_have_text("0 Bytes")
    content = b"z" * (3 * 1024 * 1024)
    await page.set_input_files(
        "#file-input",
        files=[{"name": "three.bin", "mimeType": "application/octet-stream", "buffer": content}],
    )
    await expect(page.locator(".upload.done")).to_have_count(1)
    await expect(usage).to_have_text("3.0 MiB")
    await assert_tappable(usage)
    await assert_no_sideways_scroll(page)
    page.on("dialog", lambda dialog: dialog.accept())
    delete = page.locator("#file-list tbody tr").first.locator("[data-delete]")
    await assert_tappable(delete)
    await delete.click()
    await expect(usage).to_have_text("0 Bytes")
