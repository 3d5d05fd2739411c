"""A real Chromium uploads a clip on /videos, watches it transcode, plays it and switches quality.

Debian's Chromium plays H.264/AAC through Media Source Extensions, which hls.js uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.fixtures.browser import wait_for_page
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture
async def page(browser_context: Any, client: Any) -> Any:
    """A page logged in as a fresh user."""
    name = await register(client)
    page = await browser_context.new_page()
    answer = await page.request.post(
        "/api/v1/auth/login", data={"username": name, "password": PASSWORD}
    )
    assert answer.ok
    return page


async def test_upload_play_switch_quality(page: Any, sample_720p: bytes, tmp_path: Path) -> None:
    from playwright.async_api import expect

    clip = tmp_path / "Test pattern.mp4"
    clip.write_bytes(sample_720p)
    await page.goto("/videos?mine=true")
    await expect(page.locator("#videos-empty")).to_contain_text("not uploaded a video yet")
    await page.set_input_files("#video-input", str(clip))
    await page.wait_for_url("**/v/*")
    # The page polls the API while the in-process job transcodes, then reloads as a player.
    await expect(page.locator("#player")).to_have_count(1, timeout=120_000)
    await expect(page.locator("#video-title")).to_have_text("Test pattern")
    await expect(page.locator("#quality option")).to_have_text(["Auto", "360p", "720p"])
    assert await page.get_attribute('meta[property="og:image"]', "content")
    share = await page.get_attribute('meta[property="og:video"]', "content")
    assert share is not None and share.endswith("/share.mp4")  # a direct file, for Discord
    assert await page.get_attribute('meta[property="og:video:type"]', "content") == "video/mp4"
    assert await page.get_attribute('meta[property="og:video:width"]', "content") == "640"
    assert await page.locator('meta[name="twitter:card"]').count() == 0

    await page.evaluate("document.getElementById('video').muted = true")
    # Controls draw SVG icons (fonts often lack media glyphs) and follow the video's state.
    await expect(page.locator("#mute use")).to_have_attribute("href", "#i-muted")
    await page.click("#play")
    await wait_for_page(page, "document.getElementById('video').currentTime > 0.5")
    await expect(page.locator("#play use")).to_have_attribute("href", "#i-pause")
    await expect(page.locator("#views")).to_have_text("1")

    await page.select_option("#quality", "1")
    await wait_for_page(page, "document.getElementById('player').dataset.levelHeight === '720'")
    await page.select_option("#quality", "0")
    await wait_for_page(page, "document.getElementById('player').dataset.levelHeight === '360'")
    start = await page.evaluate("document.getElementById('video').currentTime")
    await wait_for_page(page, f"document.getElementById('video').currentTime > {start}")

    await page.keyboard.press("k")  # pause
    await wait_for_page(page, "document.getElementById('video').paused")
    await page.keyboard.press("m")
    assert await page.evaluate("document.getElementById('video').muted") is False
    await page.keyboard.press("j")
    assert await page.evaluate("document.getElementById('video').currentTime") == 0

    seek = await page.locator("#seek").bounding_box()
    await page.mouse.move(seek["x"] + seek["width"] * 0.9, seek["y"] + seek["height"] / 2)
    await expect(page.locator("#seek-preview")).to_be_visible()
    cue = await page.get_attribute("#seek-preview", "data-cue")
    assert cue == "480,0"  # the fourth 160x90 tile: second 3 of 4

    embed = await page.locator("#embed-code").text_content()
    assert "/embed" in embed and "<iframe" in embed
    await page.goto(embed.split('src="')[1].split('"')[0])
    await expect(page.locator("#player video")).to_have_count(1)

    await page.goto(share)  # what a link preview plays: the file itself, in a plain <video>
    await wait_for_page(page, "document.querySelector('video').readyState >= 1")
    assert await page.evaluate("document.querySelector('video').videoWidth") == 640
