"""The player's controls in a real Chromium: length before play, a big play button, speed,
volume and a visible keyboard focus, at a desktop's and a phone's width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import logged_in_page, wait_for_page
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.browser


async def test_controls_before_and_during_play(
    browser_context: Any, client: Any, sample_720p: bytes, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    clip = tmp_path / "pattern.mp4"
    clip.write_bytes(sample_720p)
    page = await logged_in_page(browser_context, await register(client), PASSWORD)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/videos?mine=true")
    await page.set_input_files("#video-input", str(clip))
    await page.wait_for_url("**/v/*")
    await expect(page.locator("#player")).to_have_count(1, timeout=120_000)

    # Before play: the length is shown and a big play button sits over the picture.
    await expect(page.locator("#clock")).to_have_text("0:00 / 0:04")
    big = page.get_by_role("button", name="Play", exact=True)
    await expect(big).to_be_visible()
    frame = await page.locator("#video").bounding_box()
    button = await big.bounding_box()
    assert frame is not None and button is not None
    assert frame["x"] < button["x"] and button["x"] + button["width"] < frame["x"] + frame["width"]
    assert button["width"] >= 48  # a big target, not an icon
    # Keyboard focus on the player shows.
    await page.locator("#player").focus()
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Tab")
    await expect(page.locator("#player")).to_be_focused()
    outline = await page.locator("#player").evaluate("(p) => getComputedStyle(p).outlineStyle")
    assert outline != "none"

    await page.evaluate("document.getElementById('video').muted = true")
    await big.click()
    await wait_for_page(page, "document.getElementById('video').currentTime > 0.3")
    await expect(big).to_be_hidden()
    await page.get_by_label("Speed").select_option("1.5")
    assert await page.evaluate("document.getElementById('video').playbackRate") == 1.5
    await page.evaluate("document.getElementById('video').muted = false")
    await page.get_by_label("Volume (up/down arrows)").fill("0.3")
    assert await page.evaluate("document.getElementById('video').volume") == pytest.approx(0.3)
    await page.keyboard.press("k")  # shortcuts still work
    await wait_for_page(page, "document.getElementById('video').paused")
    await expect(big).to_be_visible()

    # On a phone every control stays on screen.
    await page.set_viewport_size({"width": 390, "height": 844})
    width = await page.evaluate("document.documentElement.clientWidth")
    for name in ["#play", "#speed", "#quality", "#fullscreen"]:
        box = await page.locator(name).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, name
