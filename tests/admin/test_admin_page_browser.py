"""The admin page in a real Chromium: no self-demotion, sizes in binary units, a real 403,
charts with a scale and values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from meatlizard.chat import service as chat_service
from meatlizard.chat.models import ChatSession, MessageStatus
from meatlizard.runtime import Services
from tests.files.helpers import upload
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, create_session, login, register

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A size in KiB that should have been MiB (the page once said "5156.8 KiB").
KIB_OVER_A_MIB = re.compile(r"\b\d{4,}(\.\d+)? KiB")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_admin_page_is_safe_and_consistent(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    admin = await register(client)  # the first account is the admin
    member = await register(client)
    await upload(client, await login(client, member), b"m" * (5 * 1024 * 1024 + 300_000), "big.bin")
    page = await logged_in_page(browser_context, admin, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/admin")

    own = page.locator("#user-table tbody tr", has_text=admin)
    await expect(own.locator(".badge")).to_have_text("you")
    for name in ["Revoke admin", "Disable"]:
        await expect(own.get_by_role("button", name=name)).to_have_count(0)
    other = page.locator("#user-table tbody tr", has_text=member)
    await expect(other.get_by_role("button", name="Make admin")).to_have_count(1)
    await expect(other.get_by_role("button", name="Disable")).to_have_count(1)

    await expect(page.locator("#storage-table tbody")).to_contain_text("5.3 MiB")
    await page.get_by_role("button", name="Back up now").click()
    await expect(page.locator("#backup-table tbody tr:not(.empty)")).to_have_count(1)
    size = await page.locator("#backup-table tbody tr td[data-label=Size]").first.inner_text()
    assert re.fullmatch(r"\d+ Bytes|\d+\.\d (KiB|MiB|GiB)", size), size
    assert not KIB_OVER_A_MIB.search(await page.locator("main").inner_text())

    await page.get_by_role("searchbox", name="Find a user").fill(member)
    await page.get_by_role("searchbox", name="Find a user").press("Enter")
    await page.wait_for_url("**/admin?users_q=*")
    await expect(page.locator("#user-table tbody tr")).to_have_count(1)
    await expect(page.locator("#users-pager")).to_contain_text("1 in all · page 1 of 1")


async def test_members_get_a_403_page(browser_context: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    await register(client)  # the admin
    page = await logged_in_page(browser_context, await register(client), PASSWORD)
    response = await page.goto("/admin")
    assert response is not None and response.status == 403
    await expect(page).to_have_title(re.compile(r"^403 Forbidden"))
    await expect(page.locator("h1")).to_have_text("403 Forbidden")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_dashboard_charts_show_a_scale_the_span_and_the_latest_value(
    browser_context: Any, client: httpx.AsyncClient, services: Services, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    admin = await register(client)
    session = await create_session(client, await login(client, admin))
    stored_in = _this_hour()
    async with services.sessions() as db:
        chat = await db.get(ChatSession, session["id"])
        assert chat is not None
        await chat_service.add_user_message(db, session=chat, content="hello")
        await chat_service.add_assistant_message(
            db,
            session=chat,
            content="hi",
            status=MessageStatus.COMPLETE,
            model_alias="smollm2",
            is_fallback=False,
            token_count=10,
            tokens_per_second=12.5,
        )
    page = await logged_in_page(browser_context, admin, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto("/admin")
    # The answer counts in the latest hour unless an hour began since it was stored, in
    # which case the page may have been drawn on either side of the turn.
    latest = "1" if _this_hour() == stored_in else "[01]"

    answers = page.locator("figure.chart").first
    await expect(answers.locator(".chart-y span")).to_have_text(["1", "0"])
    await expect(answers.locator(".chart-x span")).to_have_text(["24 h ago", "now"])
    await expect(answers.locator("figcaption")).to_have_text(
        re.compile(rf"^Answers per hour \(24 h\) · latest {latest}, min 0, max 1$")
    )
    name = await answers.get_by_role("img").get_attribute("aria-label")
    assert name is not None
    assert re.fullmatch(
        rf"Answers per hour \(24 h\): latest {latest}, min 0, max 1, from 24 h ago to now", name
    )
    speed = page.locator("figure.chart").nth(1)
    await expect(speed.locator(".chart-y span").first).to_have_text("12.5 tok/s")
    # The scale is readable text beside the drawing, not squeezed into it.
    label_box = await answers.locator(".chart-y span").first.bounding_box()
    plot_box = await answers.locator("svg").bounding_box()
    assert label_box is not None and plot_box is not None
    assert label_box["x"] + label_box["width"] <= plot_box["x"]
    size = await answers.locator(".chart-y span").first.evaluate(
        "(el) => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert size >= 11
    width = await page.evaluate("document.documentElement.clientWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


def _this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
