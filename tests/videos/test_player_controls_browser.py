"""The player's controls in a real Chromium: length before play, a big play button, speed,
volume and a visible keyboard focus, at a desktop's and a phone's width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import (
    DESKTOP,
    PHONE,
    assert_no_sideways_scroll,
    assert_tappable,
    logged_in_page,
    wait_for_page,
)
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.browser


async def test_controls_before_and_during_play(
    browser_context: Any, client: Any, sample_720p: bytes, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    clip = tmp_path / "pattern.mp4"
    clip.write_bytes(sample_720p)
    page = await logged_in_page(browser_context, await register(client), PASSWORD)
    await page.set_viewport_size(DESKTOP)
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

    # On a phone every control stays on screen, in one piece and not under another: the
    # volume slider gives way to the phone's own buttons.
    await page.set_viewport_size(PHONE)
    await assert_no_sideways_scroll(page)
    await assert_tappable(big)
    frame = await page.locator("#video").bounding_box()
    button = await big.bounding_box()
    assert frame is not None and button is not None
    assert frame["x"] < button["x"] and button["x"] + button["width"] < frame["x"] + frame["width"]
    await expect(page.locator("#volume")).to_be_hidden()
    await expect(page.locator("#clock")).to_have_text(re.compile(r" / 0:04$"))  # length shows
    controls = ["#play", "#seek", "#clock", "#mute", "#speed", "#quality", "#fullscreen"]
    for name in controls:
        await assert_tappable(page.locator(name))
    boxes = []
    await page.locator("#controls").scroll_into_view_if_needed()
    for name in controls:  # measured at one scroll position
        box = await page.locator(name).bounding_box()
        assert box is not None, name
        boxes.append((name, box))
    for i, (name, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1 :]:
            assert not overlap(box, other_box), (name, other)
    await page.get_by_label("Speed").select_option("2")  # still works at this size
    assert await page.evaluate("document.getElementById('video').playbackRate") == 2
    await page.locator("#play").click()
    await wait_for_page(page, "!document.getElementById('video').paused")


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Say whether two bounding boxes share any area."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
