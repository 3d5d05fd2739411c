"""Small things in a real Chromium: a site icon, a visible focus on the drop zone, file dates."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.files.helpers import upload
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, login, register

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def test_no_page_asks_for_a_missing_icon(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    page = await browser_context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    await page.goto("/")
    icon = await page.evaluate(
        "fetch(document.querySelector('link[rel=icon]').href).then((r) => r.status)"
    )
    assert icon == 200
    assert missing == []
    answer = await client.get("/favicon.ico")  # where bots and old browsers look
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_drop_zone_shows_focus_and_files_show_dates(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    await upload(client, await login(client, username), b"hello", "hello.txt")
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/files")
    zone = page.locator("#dropzone")
    assert await zone.evaluate("(z) => getComputedStyle(z).outlineStyle") == "none"
    await page.locator("#upload-options summary").focus()
    await page.keyboard.press("Tab")  # the next stop is the zone's (hidden) file input
    await expect(page.locator("#file-input")).to_be_focused()
    assert await zone.evaluate("(z) => getComputedStyle(z).outlineStyle") != "none"
    date = page.locator("#file-list tbody tr time").first
    await expect(date).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
    await expect(date).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_change_password_is_a_proper_form(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/account")
    form = page.locator("#password-form")
    await expect(form.get_by_role("heading", name="Change password")).to_be_visible()
    box = await form.bounding_box()
    button = await form.get_by_role("button", name="Change password").bounding_box()
    main = await page.locator("main").bounding_box()
    assert box is not None and button is not None and main is not None
    assert box["width"] <= 28 * 16 + 1  # a form of its own (28rem), not a bar across the page
    assert button["width"] < box["width"] / 2
    assert box["x"] + box["width"] <= viewport["width"]
    await form.get_by_label("Current password").fill(PASSWORD)
    await form.get_by_label("New password").fill("another good password")
    await form.get_by_role("button", name="Change password").click()
    await expect(page.get_by_text("Password saved.")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_link_chart_draws_bots_and_its_scale(
    browser_context: Any, client: httpx.AsyncClient, services: Any, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    from tests.links.helpers import create_link, follow

    username = await register(client)
    link = await create_link(client, await login(client, username))
    for _ in range(2):  # only bots came
        await follow(client, link["slug"], **{"User-Agent": "Googlebot/2.1"})
    await services.links.clicks.flush()
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto(f"/links/{link['slug']}/stats")
    await expect(page.locator(".badge", has_text="bots")).to_have_text("2 bots")
    bots = page.locator(".chart rect.bots")
    await expect(bots).to_have_count(1)
    box = await bots.bounding_box()
    assert box is not None and box["height"] > 10  # drawn, not an empty area
    await expect(page.locator(".chart-y span")).to_have_text(["2", "1", "0"])
    sizes = await page.locator(".chart-y span").evaluate_all(
        "(spans) => spans.map((s) => parseFloat(getComputedStyle(s).fontSize))"
    )
    assert min(sizes) >= 11
    await expect(page.locator(".chart-legend")).to_contain_text("bots")
