"""A real Chromium uploads two files on /files with progress bars, then opens one."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.browser
BIG = random.Random(1).randbytes(6 * 1024 * 1024)


async def test_upload_with_progress(browser_context: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    username = await register(client)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto("/files")
    await expect(page.locator("#files-empty")).to_contain_text("No files yet")
    await page.set_input_files(
        "#file-input",
        files=[
            {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": BIG},
            {"name": "hello.txt", "mimeType": "text/plain", "buffer": b"hello browser\n"},
        ],
    )
    await expect(page.locator(".upload progress")).to_have_count(2)
    await expect(page.locator(".upload progress").first).to_be_visible()
    await expect(page.locator(".upload.done")).to_have_count(2)
    assert await page.locator(".upload progress").first.evaluate("bar => bar.value") == 100
    # The list below redraws itself: both files show up without a reload.
    await expect(page.locator("#file-list tbody tr")).to_have_count(2)
    await expect(page.locator("#files-empty")).to_have_count(0)
    link = page.locator(".upload.done", has_text="hello.txt").locator(".state a")
    href = await link.get_attribute("href")
    assert href is not None and "/f/" in href
    await page.goto(href)
    await expect(page.locator("h1")).to_have_text("hello.txt")
    await expect(page.locator(".text-preview")).to_have_text("hello browser\n")
    await page.goto("/files")
    await expect(page.locator("#file-list tbody tr")).to_have_count(2)
