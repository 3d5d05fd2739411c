"""The video upload form asks for title, description and visibility first; unlisted by default."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from meatlizard.runtime import Services
from tests.fixtures.browser import (
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_tappable,
    logged_in_page,
)
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("settings_overrides", [{"video_transcode_in_web": False}]),
]
CLIP = b"not really a video, never transcoded here" * 100


@VIEWPORTS
async def test_details_are_chosen_before_the_upload(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/videos")
    await page.locator(".video-upload summary").click()
    form = page.locator("#video-details")
    title, description = form.get_by_label("Title"), form.get_by_label("Description")
    visibility = form.get_by_label("Visibility")
    await expect(visibility).to_have_value("unlisted")
    for field in [title, description, visibility]:
        await field.scroll_into_view_if_needed()
        await expect(field).to_be_in_viewport()
    await title.fill("Raid night")
    await description.fill("The boss fight, start to end.")
    await visibility.select_option("private")
    await page.set_input_files(
        "#video-input", files=[{"name": "raw.mp4", "mimeType": "video/mp4", "buffer": CLIP}]
    )
    await page.wait_for_url("**/v/*")
    video_id = page.url.rsplit("/", 1)[-1]
    video = (await client.get(f"/api/v1/videos/{video_id}", headers=bearer(token))).json()
    assert (video["title"], video["description"], video["visibility"]) == (
        "Raid night",
        "The boss fight, start to end.",
        "private",
    )

    # In Files the source shows once, marked as the video's source, and is counted once.
    await page.goto("/files")
    rows = page.locator("#file-list tbody tr")
    await expect(rows).to_have_count(1)
    badge = rows.first.locator(".video-source")
    await expect(badge).to_have_attribute("href", f"/v/{video_id}")
    await expect(page.locator("#storage-usage strong")).to_have_text(f"{len(CLIP) / 1024:.1f} KiB")


async def test_videos_are_unlisted_unless_asked(client: httpx.AsyncClient) -> None:
    from tests.files.helpers import upload

    token = await login(client, await register(client))
    file_id = await upload(client, token, CLIP, "clip.mp4")
    answer = await client.post("/api/v1/videos", json={"file_id": file_id}, headers=bearer(token))
    video_id = answer.json()["id"]
    video = (await client.get(f"/api/v1/videos/{video_id}", headers=bearer(token))).json()
    assert video["visibility"] == "unlisted"
    client.cookies.clear()
    assert video_id not in [v["id"] for v in (await client.get("/api/v1/videos")).json()]
    assert (await client.get(f"/v/{video_id}")).status_code == 200  # the link still works


async def test_one_view_is_singular(
    browser_context: Any, client: httpx.AsyncClient, services: Services
) -> None:
    from playwright.async_api import expect
    from sqlalchemy import update

    from meatlizard.videos.models import Video
    from tests.files.helpers import upload

    token = await login(client, await register(client))
    file_id = await upload(client, token, CLIP, "clip.mp4")
    answer = await client.post("/api/v1/videos", json={"file_id": file_id}, headers=bearer(token))
    video_id = answer.json()["id"]
    page = await browser_context.new_page()
    await page.goto(f"/v/{video_id}")
    await expect(page.locator("#views").locator("..")).to_contain_text("0 views ·")
    async with services.sessions() as db:  # views count once the video plays
        await db.execute(update(Video).where(Video.id == video_id).values(view_count=1))
        await db.commit()
    await page.reload()
    await expect(page.locator("#views").locator("..")).to_contain_text("1 view ·")


@VIEWPORTS
async def test_caption_picker_wears_the_theme(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from tests.files.helpers import upload

    username = await register(client)
    token = await login(client, username)
    file_id = await upload(client, token, CLIP, "clip.mp4")
    answer = await client.post("/api/v1/videos", json={"file_id": file_id}, headers=bearer(token))
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto(f"/v/{answer.json()['id']}")
    picker = page.locator('#caption-form input[type="file"]')
    await assert_tappable(picker)
    await assert_tappable(page.locator("#caption-form button[type=submit]"))
    await assert_no_sideways_scroll(page)
    style = await picker.evaluate(
        """(el) => { const s = getComputedStyle(el, '::file-selector-button');
                   return [s.borderTopColor, s.fontFamily, s.backgroundColor]; }"""
    )
    accent = "rgb(89, 240, 125)"
    assert style[0] == accent and "Mono" in style[1], style
    assert style[2] in ("rgba(0, 0, 0, 0)", "transparent"), style
