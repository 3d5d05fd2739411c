"""My stuff in a real Chromium: in the navigation, an admin's own things by default, and files
pictured as in Files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.files.helpers import png_2x2, upload
from tests.fixtures.browser import (
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_tappable,
    logged_in_page,
    wait_for_page,
)
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser
THUMB = "#mine-files img.thumb"


@VIEWPORTS
async def test_admin_sees_their_own_stuff_with_a_switch(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    admin = await register(client)  # the first account is the admin
    member = await register(client)
    for name, url in [(admin, "https://example.com/admins"), (member, "https://example.com/x")]:
        token = await login(client, name)
        await client.post("/api/v1/links", json={"url": url}, headers=bearer(token))
    page = await logged_in_page(browser_context, admin, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/files")
    nav = page.get_by_role("navigation", name="Sections").get_by_role("link", name="My stuff")
    await expect(nav).to_be_in_viewport()
    await nav.click()
    await page.wait_for_url("**/mine")
    await expect(nav).to_have_attribute("aria-current", "page")
    await expect(page.locator("h1")).to_have_text("My stuff")
    await expect(page.locator("#mine-links tbody tr")).to_have_count(1)
    await expect(page.locator("#mine-links")).to_contain_text("example.com/admins")

    switch = page.get_by_role("navigation", name="Whose things")
    await expect(switch.get_by_role("link", name="Mine")).to_have_attribute("aria-current", "page")
    await switch.get_by_role("link", name="Everyone's").click()
    await page.wait_for_url("**/mine?everyone=true")
    await expect(page.locator("h1")).to_have_text("Everyone's stuff")
    await expect(page.locator("#mine-links tbody tr")).to_have_count(2)
    await expect(page.locator("#mine-links")).to_contain_text(member)
    await page.keyboard.press("Tab")  # the switch is reachable and shows its focus
    await switch.get_by_role("link", name="Mine").focus()
    outline = await switch.get_by_role("link", name="Mine").evaluate(
        "(a) => getComputedStyle(a).outlineStyle"
    )
    assert outline != "none"


async def test_members_see_only_their_own(browser_context: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    await register(client)  # the admin
    member = await register(client)
    page = await logged_in_page(browser_context, member, PASSWORD)
    await page.goto("/mine?everyone=true")
    await expect(page.locator("h1")).to_have_text("My stuff")
    await expect(page.get_by_role("navigation", name="Whose things")).to_have_count(0)


@VIEWPORTS
async def test_files_show_a_thumbnail_or_a_type_as_in_files(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    image_id = await upload(client, token, png_2x2(), "lizard.png")
    await upload(client, token, b"hello\n", "notes_" + "x" * 80 + ".txt")
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/mine")
    rows = page.locator("#mine-files tbody tr")
    await expect(rows).to_have_count(2)
    image = rows.filter(has_text="lizard.png")
    text = rows.filter(has_text="notes_")

    thumb = image.locator("img.thumb")
    await expect(thumb).to_have_attribute("src", f"/f/{image_id}/raw")
    await expect(thumb).to_have_attribute("loading", "lazy")
    await thumb.scroll_into_view_if_needed()
    await wait_for_page(
        page, f"document.querySelector('{THUMB}').complete"
        f" && document.querySelector('{THUMB}').naturalWidth === 2"
    )  # fmt: skip
    await expect(image.locator(".thumb-cell a")).to_have_attribute("tabindex", "-1")
    await expect(text.locator("img")).to_have_count(0)
    await expect(text.locator(".file-type")).to_have_text("TXT")

    # The picture sits before the name, on the same line, at both widths.
    for row in (image, text):
        picture = await row.locator(".thumb-cell a").bounding_box()
        name = await row.locator(".file-cell a").bounding_box()
        assert picture is not None and name is not None
        assert 24 <= picture["width"] <= 48 and 24 <= picture["height"] <= 48
        assert picture["x"] + picture["width"] <= name["x"]
        assert name["y"] < picture["y"] + picture["height"]
        assert picture["y"] < name["y"] + name["height"]
        await assert_tappable(row.locator(".file-cell a"))
        await assert_tappable(row.get_by_role("button", name="Delete"))
    await assert_no_sideways_scroll(page)
