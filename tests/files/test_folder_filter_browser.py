"""Real Chromium on /files: pick a folder from the filter; the choice lives in the URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.files.helpers import upload
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser


async def test_folder_filter_takes_subfolders_and_is_bookmarkable(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    ids = {}
    for folder in ("work", "work/2024", "workshop", ""):
        ids[folder] = await upload(client, token, b"x", f"{folder or 'loose'}.txt")
        moved = await client.patch(
            f"/api/v1/files/{ids[folder]}", json={"folder": folder}, headers=bearer(token)
        )
        assert moved.status_code == 200
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto("/files")
    rows = page.locator("#file-list tbody tr")
    await expect(rows).to_have_count(4)
    choice = page.get_by_label("Show")
    await expect(choice.locator("option")).to_have_text(
        ["all files", "work/", "work/2024/", "workshop/"]
    )
    # With scripts the choice applies at once; the Show button is for pages without them.
    await expect(page.locator("#folder-show")).to_be_hidden()

    await choice.select_option("work")
    await page.wait_for_url("**/files?folder=work")
    await expect(rows).to_have_count(2)
    for folder in ("work", "work/2024"):
        await expect(page.locator(f'#file-list tr[data-id="{ids[folder]}"]')).to_have_count(1)
    await expect(page.locator("#folder-scope")).to_contain_text("work/ and its subfolders")
    await expect(page.locator("#upload-folder")).to_have_value("work")

    # A bookmark opens the same view.
    await page.goto("/files?folder=work%2F2024")
    await expect(choice).to_have_value("work/2024")
    await expect(rows).to_have_count(1)
    await expect(page.locator(f'#file-list tr[data-id="{ids["work/2024"]}"]')).to_have_count(1)

    await choice.select_option("")
    await page.wait_for_url("**/files")
    await expect(rows).to_have_count(4)
    await expect(choice).to_have_value("")
