"""The dashboard's live part: /admin/live for admins only, and the page redraws it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, bearer, login, register, user_token
from tests.links.helpers import create_link, follow


def redirects_shown(html: str) -> int:
    found = re.search(r'id="redirects-total">(\d+)<', html)
    assert found is not None, html
    return int(found.group(1))


async def test_live_part_is_for_admins_and_follows_the_counters(client: httpx.AsyncClient) -> None:
    assert (await client.get("/admin/live")).status_code == 401  # before any login
    admin = await user_token(client)  # the first account is an admin
    member = await user_token(client)
    refused = await client.get("/admin/live", headers=bearer(member))
    assert refused.status_code == 403
    assert "admins only" in refused.text
    first = await client.get("/admin/live", headers=bearer(admin))
    assert first.status_code == 200
    assert "<html" not in first.text  # a fragment, not a page
    assert "Answers per hour (24 h)" in first.text and "<svg " in first.text
    link = await create_link(client, admin)
    for _ in range(2):
        assert (await follow(client, link["slug"])).status_code == 302
    second = await client.get("/admin/live", headers=bearer(admin))
    assert redirects_shown(second.text) == redirects_shown(first.text) + 2
    page = await client.get("/admin", headers=bearer(admin))
    assert '<div id="admin-live" data-interval="15">' in page.text
    assert redirects_shown(page.text) == redirects_shown(second.text)


@pytest.mark.browser
async def test_page_redraws_the_live_part(browser_context: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    username = await register(client)  # the first account is an admin
    token = await login(client, username)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto("/admin")
    shown = page.locator("#redirects-total")
    before = int(await shown.inner_text())
    link = await create_link(client, token)
    assert (await follow(client, link["slug"])).status_code == 302
    await page.get_by_role("button", name="Refresh").click()
    await expect(shown).to_have_text(str(before + 1))
    await expect(page.locator("#live-state")).to_contain_text("Updated")
    await expect(page.get_by_role("button", name="Refresh")).to_be_focused()
