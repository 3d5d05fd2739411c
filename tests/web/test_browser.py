"""A real Chromium registers, chats with the real model, and finds the history after reload."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from tests.helpers import PASSWORD, unique_name

pytestmark = pytest.mark.browser


@pytest.fixture
def use_model() -> bool:
    return True


@pytest_asyncio.fixture
async def page(browser_context: Any) -> Any:
    return await browser_context.new_page()


async def test_register_chat_stream_and_reload(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    await page.goto("/register")
    await page.fill('input[name="username"]', unique_name())
    await page.fill('input[name="password"]', PASSWORD)
    await page.fill('input[name="password_again"]', PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/chat")

    await page.select_option('select[name="preset"]', "poet")
    await page.click("#new-session button[type=submit]")
    await page.wait_for_url("**/chat/*")

    await page.fill("#prompt", "Write one line about a lizard.")
    await page.keyboard.press("Enter")
    answer = page.locator(".message.assistant .body").last
    # While the answer streams, the Stop button replaces Send and the text grows.
    await expect(page.locator(".message.assistant.streaming")).to_have_count(1, timeout=30_000)
    await expect(answer).not_to_be_empty(timeout=30_000)
    await expect(page.locator("#send")).to_be_visible(timeout=60_000)
    await expect(page.locator("#status-line")).to_contain_text("tokens/s")
    streamed = (await answer.inner_text()).strip()
    assert streamed

    await page.reload()
    messages = page.locator(".message")
    await expect(messages).to_have_count(2)
    await expect(messages.first).to_contain_text("Write one line about a lizard.")
    assert (await page.locator(".message.assistant .body").inner_text()).strip() == streamed
    # A preset chat is titled by its first prompt, not by the preset.
    await expect(page.locator("#session-list a.active")).to_contain_text("Write one line")


async def test_html_in_messages_is_shown_as_text_never_run(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    await page.goto("/register")
    await page.fill('input[name="username"]', unique_name())
    await page.fill('input[name="password"]', PASSWORD)
    await page.fill('input[name="password_again"]', PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/chat")
    await page.click("#new-session button[type=submit]")
    await page.wait_for_url("**/chat/*")
    payload = '<img src=x onerror="window.pwned=1"> Repeat exactly: <script>window.pwned=2</script>'
    await page.fill("#prompt", payload)
    await page.keyboard.press("Enter")
    # The answer's length does not matter here: stop it once it streams, then read it back.
    await expect(page.locator(".message.assistant .body")).not_to_be_empty(timeout=60_000)
    await page.evaluate("document.querySelector('#stop:not([hidden])')?.click()")
    await expect(page.locator("#status-line")).to_contain_text("tokens/s", timeout=60_000)
    await page.reload()  # history is rendered again from the server's copy
    await expect(page.locator(".message.user .body")).to_have_text(payload)
    assert await page.locator(".messages img, .messages script").count() == 0
    assert await page.evaluate("window.pwned") is None
