"""My stuff in a real Chromium: in the navigation, and an admin's own things by default."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
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
