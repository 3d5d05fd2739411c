"""Take docs/screenshots/chat.png: a chat answer with highlighted code and a `< 2/2 >` switcher.

Not part of a test run (the file name does not start with test_); run it by name:

    PYTHONPATH=$PWD .venv/bin/pytest -q -p no:cacheprovider tests/chat/screenshot_chat.py

It uses the embedded backend only, a scripted model (the same answers every time) and the
suite's Debian Chromium at 1280x800, then overwrites the PNG.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats
from meatlizard.inference.scheduler import QueueListener
from tests.chat.scripted import ScriptedInference
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, create_session, login, register

pytestmark = pytest.mark.browser
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "chat.png"
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 30_000
PROMPT = "Write a Python function that returns the 3 most common words of a file."
FIRST = (
    "Use `collections.Counter`:\n\n"
    "```python\nfrom collections import Counter\n\n"
    "def top_words(path):\n    with open(path) as f:\n"
    "        return Counter(f.read().split()).most_common(3)\n```\n"
)
SECOND = (
    "Sure: a function that reads a file and counts the words in it.\n\n"
    "```python\nfrom collections import Counter\nfrom pathlib import Path\n\n"
    "def top_words(path: Path, n: int = 3) -> list[tuple[str, int]]:\n"
    '    """Return the n most common words in a text file."""\n'
    "    words = Path(path).read_text().lower().split()\n"
    "    return Counter(words).most_common(n)  # ties keep file order\n```\n\n"
    "| Call | Result |\n|---|---|\n"
    "| `top_words(\"log.txt\")` | `[('error', 12), ('ok', 9), ('warn', 3)]` |\n"
)


class TwoDrafts(ScriptedInference):
    """Answer the first call with FIRST and every later one (a regenerate) with SECOND."""

    def __init__(self) -> None:
        super().__init__([FIRST, SECOND])

    async def generate(  # type: ignore[override]
        self,
        conversation: Conversation,
        *,
        alias: str | None,
        owner: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None = None,
    ) -> AsyncIterator[str]:
        self.conversations.append(conversation)
        answer = self.parts[min(len(self.conversations), len(self.parts)) - 1]
        stats.token_count += len(answer) // 4  # about what a tokenizer makes of it
        stats.seconds += stats.token_count / 48
        yield answer
        self.sent.set()


@pytest.fixture
def shared_inference() -> ScriptedInference:
    return TwoDrafts()


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
async def test_take_chat_screenshot(browser_context: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    username = await register(client, "lizard_admin")  # the first account: an admin
    session = await create_session(
        client, await login(client, username), title="Word counts in Python"
    )
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"/chat/{session['id']}")
    await page.fill("#prompt", PROMPT)
    await page.keyboard.press("Enter")
    answer = page.locator(".message.assistant")
    await expect(answer.locator(".copy-message")).to_be_visible(timeout=WAIT_MS)
    await page.click("#regenerate")
    await expect(answer.locator(".version-count")).to_have_text("2/2", timeout=WAIT_MS)
    await expect(answer.locator("pre code .hljs-keyword").first).to_be_visible()
    await page.evaluate("document.getElementById('messages').scrollTop = 1e6")  # the switcher
    await page.evaluate("document.activeElement.blur()")  # no focus ring in the shot
    await page.mouse.move(1, 790)
    await page.screenshot(path=str(OUT))
