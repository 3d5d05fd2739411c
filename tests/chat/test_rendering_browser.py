"""Chat answers in a real Chromium: highlighted code under a header bar while it streams,
clean tables, lists and quotes, at a desktop's and a phone's width."""

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
ANSWER = [
    "Here is a table:\n\n| Name | Legs |\n|---|---|\n| Lizard | 4 |\n| Snake | 0 |\n\n"
    "> Lizards bask in the sun.\n\n- one\n- two\n\n1. first\n2. second\n\n"
    "```python\ndef greet(name):\n",
    '    return f"hi {name}"  # a long comment that runs on and on past a phone\'s edge\n',
    "```\n\nDone.",
]
CODE = ANSWER[0].split("```python\n")[1] + ANSWER[1]


@pytest.fixture
def shared_inference() -> ScriptedInference:
    return ScriptedInference(ANSWER)


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Say whether two bounding boxes share any area."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def assert_copy_outside_code(block: Any) -> None:
    """Copy sits in the header bar, above the code, and is not part of its text."""
    from playwright.async_api import expect

    button = block.locator(".code-head button.copy-code")
    await expect(button).to_be_visible()
    # Both boxes from one look at the same element: the page may re-render between two calls.
    button_box, pre_box = await block.evaluate(
        """(el) => [el.querySelector('.code-head button.copy-code'), el.querySelector('pre')]
            .map((node) => { const r = node.getBoundingClientRect();
                             return {x: r.x, y: r.y, width: r.width, height: r.height}; })"""
    )
    assert not overlap(button_box, pre_box)
    assert button_box["y"] + button_box["height"] <= pre_box["y"]
    assert "Copy" not in await block.locator("pre").inner_text()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_code_is_highlighted_while_it_streams(
    browser_context: Any,
    client: httpx.AsyncClient,
    shared_inference: ScriptedInference,
    viewport: dict[str, int],
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    session = await create_session(client, await login(client, username))
    await browser_context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(viewport)
    await page.goto(f"/chat/{session['id']}")
    await page.fill("#prompt", "Show me a table and some code.")
    await page.keyboard.press("Enter")

    # Mid-answer: the open fence is already highlighted, labelled, with Copy above it.
    block = page.locator(".message.assistant.streaming .code-block")
    await expect(block).to_have_count(1, timeout=30_000)
    await expect(block.locator(".code-lang")).to_have_text("python")
    await expect(block.locator("code .hljs-keyword").first).to_have_text("def")
    await assert_copy_outside_code(block)
    # Neither the block nor its Copy button is rebuilt as the code grows (no flicker).
    await block.evaluate("(el) => { el.probe = 1; el.querySelector('.copy-code').probe = 2; }")
    shared_inference.release()
    await expect(block.locator("code .hljs-string")).to_have_count(1)
    assert await block.evaluate("(el) => [el.probe, el.querySelector('.copy-code').probe]") == [
        1,
        2,
    ]
    await assert_copy_outside_code(block)
    shared_inference.release()
    await expect(page.locator("#status-line")).to_contain_text("tokens/s", timeout=30_000)
    # The page then re-renders the conversation as stored (ids, Edit, versions): wait for it.
    await expect(page.locator(".message.assistant[data-message-id]")).to_have_count(1)

    answer = page.locator(".message.assistant .body")
    await assert_rendered(page, answer)
    await answer.locator(".copy-code").click()
    assert await page.evaluate("navigator.clipboard.readText()") == CODE
    await page.reload()  # the saved answer renders the same way
    await assert_rendered(page, page.locator(".message.assistant .body"))


async def assert_rendered(page: Any, answer: Any) -> None:
    """Tables, quotes, lists and code are real elements, and nothing overflows the page."""
    from playwright.async_api import expect

    await expect(answer.locator(".table-wrap table th")).to_have_text(["Name", "Legs"])
    await expect(answer.locator("table td")).to_have_text(["Lizard", "4", "Snake", "0"])
    await expect(answer.locator("blockquote")).to_have_text("Lizards bask in the sun.")
    await expect(answer.locator("ul > li")).to_have_text(["one", "two"])
    await expect(answer.locator("ol > li")).to_have_text(["first", "second"])
    await expect(answer.locator(".code-block .code-lang")).to_have_text("python")
    await expect(answer.locator(".code-block code .hljs-comment")).to_have_count(1)
    await assert_copy_outside_code(answer.locator(".code-block"))
    # Long code scrolls inside its own box; the page itself never scrolls sideways.
    width = await page.evaluate("document.documentElement.clientWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
