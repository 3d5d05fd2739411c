"""Real Chromium at a phone's width (390x844): /files and /f/{id} keep everything on screen."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.files.helpers import upload
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
LONG_NAME = "a_really_long_file_name_without_any_spaces_or_breaks_" + "x" * 60 + ".bin"
LONG_FOLDER = "photos/2024/summer-trip-portugal-lisbon-and-porto-with-everyone"

# Elements whose right edge lies past the viewport, ignoring the top bar's own scroller.
OFF_SCREEN = """(selector) => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .map((el) => el.outerHTML.slice(0, 80));
}"""


async def test_files_and_file_page_fit_a_phone(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    file_id = await upload(client, token, b"z" * 4000, LONG_NAME)
    await client.patch(
        f"/api/v1/files/{file_id}",
        json={"folder": LONG_FOLDER, "password": "pw", "max_downloads": 5},
        headers=bearer(token),
    )
    await upload(client, token, b"short\n", "notes.txt")
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(PHONE)

    await page.goto("/files")
    await expect(page.locator("#file-list tbody tr")).to_have_count(2)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Every name, size and button of the list is on screen, not behind a sideways scroll.
    assert await page.evaluate(OFF_SCREEN, "#file-list td, #file-list td *") == []
    assert await page.evaluate(OFF_SCREEN, "#folder-filter, #folder-filter *") == []
    await page.locator("#upload-options summary").click()
    assert await page.evaluate(OFF_SCREEN, "#upload-options *") == []
    row = page.locator(f'#file-list tr[data-id="{file_id}"]')
    await row.get_by_role("button", name="Delete").scroll_into_view_if_needed()
    await expect(row.get_by_role("button", name="Delete")).to_be_in_viewport()

    await page.goto(f"/f/{file_id}")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await page.evaluate(OFF_SCREEN, ".file-view *, #file-settings *") == []
    await page.get_by_role("button", name="Delete file").scroll_into_view_if_needed()
    await expect(page.get_by_role("button", name="Delete file")).to_be_in_viewport()
