"""Chat history in a real Chromium at a desktop's and a phone's width: answer versions,
edited prompts on their own branch, renaming, search, and per-message Copy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.chat.scripted import ScriptedInference
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, create_session, login, register

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
ANSWER_WAIT_MS = 30_000


@pytest.fixture
def shared_inference() -> ScriptedInference:
    return ScriptedInference(["answer {n}"])


async def open_chat(
    client: httpx.AsyncClient, browser_context: Any, viewport: dict[str, int], **body: Any
) -> Any:
    """Log a fresh user in and open a new chat of theirs."""
    username = await register(client)
    session = await create_session(client, await login(client, username), **body)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto(f"/chat/{session['id']}")
    return page


async def ask(page: Any, prompt: str, answers: int) -> None:
    """Send a prompt and wait until the page shows the stored answer number `answers`."""
    from playwright.async_api import expect

    await page.fill("#prompt", prompt)
    await page.keyboard.press("Enter")
    await expect(page.locator(".message.assistant .body").last).to_have_text(
        f"answer {answers}", timeout=ANSWER_WAIT_MS
    )
    # Stored: the page has re-read the answer from the server, with its tools.
    await expect(page.locator(".message.assistant").last.locator(".copy-message")).to_be_visible(
        timeout=ANSWER_WAIT_MS
    )


async def assert_no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("document.documentElement.clientWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


@VIEWPORTS
async def test_switch_between_three_versions_of_an_answer(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    await browser_context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await open_chat(client, browser_context, viewport)
    await ask(page, "Say hi", 1)
    answer = page.locator(".message.assistant")
    for shown in (2, 3):
        await page.click("#regenerate")
        await expect(answer.locator(".version-count")).to_have_text(
            f"{shown}/{shown}", timeout=ANSWER_WAIT_MS
        )
        await expect(answer.locator(".body")).to_have_text(f"answer {shown}")
    await expect(answer.locator(".version-next")).to_be_disabled()
    for shown in (2, 1):
        await answer.locator(".version-prev").click()
        await expect(answer.locator(".version-count")).to_have_text(f"{shown}/3")
        await expect(answer.locator(".body")).to_have_text(f"answer {shown}")
    await expect(answer.locator(".version-prev")).to_be_disabled()
    await assert_no_sideways_scroll(page)

    await page.reload()  # the shown version is remembered
    await expect(answer.locator(".version-count")).to_have_text("1/3")
    await expect(answer.locator(".body")).to_have_text("answer 1")
    await answer.locator(".copy-message").click()
    assert await page.evaluate("navigator.clipboard.readText()") == "answer 1"
    await page.locator(".message.user .copy-message").click()
    assert await page.evaluate("navigator.clipboard.readText()") == "Say hi"


@VIEWPORTS
async def test_edit_a_prompt_then_switch_branches_and_the_model_sees_the_shown_one(
    browser_context: Any,
    client: httpx.AsyncClient,
    shared_inference: ScriptedInference,
    viewport: dict[str, int],
) -> None:
    from playwright.async_api import expect

    page = await open_chat(client, browser_context, viewport)
    await ask(page, "first", 1)
    await ask(page, "second", 2)
    second = page.locator(".message.user").nth(1)
    await second.locator(".edit-message").click()
    await second.locator(".edit-form textarea").fill("second, edited")
    await second.get_by_role("button", name="Save & send").click()
    await expect(page.locator(".message.user").nth(1).locator(".version-count")).to_have_text(
        "2/2", timeout=ANSWER_WAIT_MS
    )
    bodies = page.locator(".message .body")
    await expect(bodies).to_have_text(["first", "answer 1", "second, edited", "answer 3"])

    await page.locator(".message.user").nth(1).locator(".version-prev").click()
    await expect(bodies).to_have_text(["first", "answer 1", "second", "answer 2"])
    await expect(page.locator(".message.user").nth(1).locator(".version-count")).to_have_text("1/2")
    await assert_no_sideways_scroll(page)
    await ask(page, "third", 4)
    turns = shared_inference.conversations[-1].turns
    assert [t.content for t in turns] == ["first", "answer 1", "second", "answer 2", "third"]

    await page.reload()
    await expect(bodies).to_have_text(
        ["first", "answer 1", "second", "answer 2", "third", "answer 4"]
    )
    await page.locator(".message.user").nth(1).locator(".version-next").click()
    await expect(bodies).to_have_text(["first", "answer 1", "second, edited", "answer 3"])


@VIEWPORTS
async def test_title_from_the_first_prompt_rename_and_search_by_content(
    browser_context: Any, client: httpx.AsyncClient, viewport: dict[str, int]
) -> None:
    from playwright.async_api import expect

    page = await open_chat(client, browser_context, viewport, preset="poet")
    chat_url = page.url
    await ask(page, "Tell me about salamanders", 1)
    title = page.locator("#session-title")
    active = page.locator("#session-list a.active")
    await expect(title).to_have_text("Tell me about salamanders")
    await expect(active).to_have_text("Tell me about salamanders")

    await title.click()
    await page.fill("#rename-title", "Amphibian notes")
    await page.keyboard.press("Enter")
    await expect(title).to_have_text("Amphibian notes")
    await expect(active).to_have_text("Amphibian notes")
    await page.reload()
    await expect(title).to_have_text("Amphibian notes")

    await page.locator("details.new-chat summary").click()
    await page.select_option('select[name="preset"]', "poet")
    await page.click("#new-session button[type=submit]")
    await page.wait_for_url(lambda url: url != chat_url)
    await expect(page.locator("#session-list a")).to_have_count(2)
    await page.fill("#chat-search", "SALAMANDER")
    links = page.locator("#session-list a")
    await expect(links).to_have_text(["Amphibian notes"])
    await links.first.click()
    await page.wait_for_url(chat_url)
    await page.fill("#chat-search", "no such word anywhere")
    await expect(page.locator("#session-list li")).to_have_text(["No chat matches."])
    await page.fill("#chat-search", "")
    await expect(page.locator("#session-list a")).to_have_count(2)
