"""Paste pages in a real Chromium: a zero-knowledge paste without its key is one clear locked
state, and the page after creating a burn-after-read paste warns before the link is opened."""

from __future__ import annotations

from typing import Any

import pytest

from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECRET = "the launch code is 0000\nsecond line\n"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_zero_knowledge_paste_without_its_key_is_locked(
    browser_context: Any, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    page = await browser_context.new_page()
    await page.set_viewport_size(viewport)
    await page.goto("/paste")
    await page.fill("#paste-content", SECRET)
    await page.check("#paste-zk")
    await page.press("#paste-content", "Control+Enter")
    await page.wait_for_url("**/p/*#key=*")
    with_key = page.url
    await expect(page.locator("#paste-crypto-state")).to_have_text(
        "zero-knowledge: decrypted in your browser"
    )

    await page.goto(with_key.split("#")[0])
    await expect(page.locator("#paste-error")).to_contain_text("no key")
    await expect(page.locator("#paste-crypto-state")).to_have_text("zero-knowledge: locked")
    # One state: no "Decrypting…", no "decrypted", no ciphertext, and no action to take on it.
    body = await page.locator("main").inner_text()
    assert "Decrypting" not in body and "decrypted" not in body
    await expect(page.locator(".paste-code")).to_be_hidden()
    for name in ["Copy", "Clone and edit"]:
        await expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()
    for link in [page.locator("#paste-download"), page.locator("#paste-raw")]:
        await expect(link).to_have_attribute("aria-disabled", "true")
        assert await link.get_attribute("href") is None

    # The key arrives (the fragment changes): the page unlocks in place.
    await page.goto(with_key)
    await expect(page.locator("#paste-code")).to_contain_text("the launch code is 0000")
    await expect(page.get_by_role("button", name="Copy", exact=True)).to_be_enabled()
    await expect(page.locator("#paste-crypto-state")).to_have_text(
        "zero-knowledge: decrypted in your browser"
    )
    raw = await page.locator("#paste-raw").get_attribute("href")
    assert raw is not None and raw.startswith("blob:")  # the plain text, never the ciphertext


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_burn_after_read_warns_before_the_link_is_opened(
    browser_context: Any, client: Any, services: Services, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    page = await logged_in_page(browser_context, await register(client), PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/paste")
    await page.fill("#paste-content", SECRET)
    await page.check('input[name="burn_after_read"]')
    await page.press("#paste-content", "Control+Enter")
    warning = page.locator("#paste-burn-warning")
    await expect(warning).to_contain_text("opening this link shows the paste once")
    await expect(warning).to_be_in_viewport()
    link = await page.locator("#paste-link").get_attribute("href")
    assert link is not None
    paste_id = link.split("/p/")[1]
    async with services.sessions() as db:  # showing the link did not burn it
        assert await db.get(Paste, paste_id) is not None
    await page.get_by_role("link", name="New paste").click()
    await page.wait_for_url("**/paste")
    await expect(page.locator("#paste-content")).to_have_value("")
