"""The file list in a real Chromium pictures each file (an image's own thumbnail, a type label
for the rest) beside its upload date, at a desktop's and a phone's width."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.files.helpers import png_2x2
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, register, until

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
THUMB = "#file-list img.thumb"
# The loaded thumbnail's box and its file name's, or null while the image is not drawn yet.
MEASURE_THUMB = f"""() => {{
  const img = document.querySelector('{THUMB}');
  if (!img || !img.complete || img.naturalWidth !== 2) return null;
  const name = img.closest('tr').querySelector('.file-cell a');
  const box = (e) => {{
    const r = e.getBoundingClientRect();
    return {{x: r.x, y: r.y, width: r.width, height: r.height}};
  }};
  return [box(img), box(name)];
}}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_uploads_show_a_thumbnail_or_a_type_and_their_date(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/files")
    await page.set_input_files(
        "#file-input",
        files=[
            {"name": "lizard.png", "mimeType": "image/png", "buffer": png_2x2()},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello\n"},
        ],
    )
    await expect(page.locator(".upload.done")).to_have_count(2)
    rows = page.locator("#file-list tbody tr")
    await expect(rows).to_have_count(2)  # the list redrew itself with both
    image = rows.filter(has_text="lizard.png")
    text = rows.filter(has_text="notes.txt")

    # The image: its own raw file, fetched lazily, drawn small beside its name.
    thumb = image.locator("img.thumb")
    await expect(thumb).to_be_visible()
    await expect(thumb).to_have_attribute("loading", "lazy")
    file_id = await image.get_attribute("data-id")
    await expect(thumb).to_have_attribute("src", f"/f/{file_id}/raw")
    # Measured in one step in the page: the list may be redrawn once more (the second upload's
    # redraw), replacing the row between a locator's lookup and its bounding box.
    thumb_box, name_box = await until(
        lambda: page.evaluate(MEASURE_THUMB), "a loaded thumbnail to measure", within=30
    )
    assert 24 <= thumb_box["width"] <= 48 and 24 <= thumb_box["height"] <= 48
    assert thumb_box["x"] + thumb_box["width"] <= name_box["x"]  # before the name...
    assert name_box["y"] < thumb_box["y"] + thumb_box["height"]  # ...on the same line
    assert thumb_box["y"] < name_box["y"] + name_box["height"]
    # Not one more tab stop: the name's link is the row's way in.
    await expect(image.locator(".thumb-cell a")).to_have_attribute("tabindex", "-1")

    # The text file: a type label, no picture.
    await expect(text.locator("img")).to_have_count(0)
    await expect(text.locator(".file-type")).to_have_text("TXT")
    await expect(text.locator(".file-type")).to_be_visible()

    # Both: the upload date as the rest of the app writes it, in UTC.
    for row in (image, text):
        date = row.locator("time")
        await expect(date).to_be_visible()
        await expect(date).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
        stamp = await date.get_attribute("datetime")
        assert stamp is not None
        assert await date.inner_text() == stamp[:16].replace("T", " ")
        await expect(date).to_have_attribute("title", re.compile(r"^Uploaded .* UTC$"))

    width = await page.evaluate("document.documentElement.clientWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
