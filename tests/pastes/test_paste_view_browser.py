"""A real Chromium: line links, zero-knowledge pastes, markdown, download, clone, delete."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services

pytestmark = pytest.mark.browser
SECRET = "the launch code is 0000\nsecond line <b>bold?</b>\nthird\n"


@pytest_asyncio.fixture
async def page(browser_context: Any) -> Any:
    return await browser_context.new_page()


async def _create(client: httpx.AsyncClient, **body: object) -> dict[str, Any]:
    response = await client.post("/api/v1/pastes", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def _selected(page: Any) -> list[str]:
    ids: list[str] = await page.eval_on_selector_all(
        "#paste-code .line.selected", "rows => rows.map(r => r.id)"
    )
    return ids


async def test_line_links_select_and_old_links_still_work(
    page: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    text = "".join(f"line = {n}\n" for n in range(1, 41))
    paste = await _create(client, content=text, language="python")
    await page.goto(f"/p/{paste['id']}#L-12")  # the old link form
    await expect(page.locator("#paste-view")).to_have_attribute("data-ready", "1")
    assert page.url.endswith("#L12")
    assert await _selected(page) == ["L12"]
    await page.click("#L5 .ln")
    assert page.url.endswith("#L5")
    assert await _selected(page) == ["L5"]
    await page.click("#L8 .ln", modifiers=["Shift"])
    assert page.url.endswith("#L5-L8")
    assert await _selected(page) == ["L5", "L6", "L7", "L8"]
    await page.goto(f"/p/{paste['id']}#L30-L31")
    await expect(page.locator("#L31")).to_have_class("line selected")
    assert await _selected(page) == ["L30", "L31"]
    assert await page.locator("#L40").count() == 1 and await page.locator("#L41").count() == 0


async def test_zero_knowledge_paste_is_decrypted_only_in_the_browser(
    page: Any, client: httpx.AsyncClient, services: Services
) -> None:
    from playwright.async_api import expect

    await page.goto("/paste")
    await page.fill("#paste-content", SECRET)
    await page.check("#paste-zk")
    await expect(page.locator("#paste-zk-note")).to_be_visible()
    await page.press("#paste-content", "Control+Enter")
    await page.wait_for_url("**/p/*#key=*")
    await expect(page.locator("#paste-code")).to_contain_text("the launch code is 0000")
    await expect(page.locator("#L2")).to_contain_text("second line <b>bold?</b>")
    await expect(page.locator("#L3")).to_have_count(1)
    await expect(page.locator("#L4")).to_have_count(0)
    paste_id = page.url.split("/p/")[1].split("#")[0]
    key = page.url.split("#key=")[1]
    assert len(base64.urlsafe_b64decode(key + "=")) == 32
    async with services.sessions() as db:
        row = await db.get(Paste, paste_id)
        assert row is not None and row.encrypted
        stored = base64.b64decode(row.content, validate=True)
    assert "launch code" not in row.content
    assert len(stored) == 12 + len(SECRET.encode()) + 16  # IV + ciphertext + tag
    assert b"launch code" not in stored
    raw = await client.get(f"/p/{paste_id}/raw")
    assert raw.text == row.content
    # A line link keeps the key in the fragment.
    await page.click("#L2 .ln")
    assert page.url.endswith(f"#key={key}&L2")
    await page.reload()
    await expect(page.locator("#L2")).to_have_class("line selected")
    # Without the key, or with a wrong one, nothing is shown.
    await page.goto(f"/p/{paste_id}")
    await expect(page.locator("#paste-error")).to_contain_text("no key")
    await page.goto(f"/p/{paste_id}#key=" + "A" * 43)
    await expect(page.locator("#paste-error")).to_contain_text("Could not decrypt")
    await expect(page.locator("#paste-code")).not_to_contain_text("launch code")


async def test_zero_knowledge_with_password_and_burn(page: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    await page.goto("/paste")
    await page.fill("#paste-content", SECRET)
    await page.check("#paste-zk")
    await page.check('input[name="burn_after_read"]')
    await page.fill('input[name="password"]', "open sesame")
    await page.click('#paste-form button[type="submit"]')
    link = await page.locator("#paste-link").get_attribute("href")
    assert "#key=" in link
    await page.goto(link)
    await page.fill('input[name="password"]', "open sesame")
    await page.click('#paste-unlock button[type="submit"]')
    await expect(page.locator("#paste-code")).to_contain_text("the launch code is 0000")
    paste_id = link.split("/p/")[1].split("#")[0]
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 404  # burned


async def test_markdown_is_rendered_sanitised_with_a_source_toggle(
    page: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    text = (
        '# Release notes\n\n* **bold** item\n\n<img src=x onerror="window.pwned=1">\n\n'
        "[click](javascript:window.pwned=2)\n"
    )
    paste = await _create(client, content=text, language="markdown")
    await page.goto(f"/p/{paste['id']}")
    rendered = page.locator("#paste-rendered")
    await expect(rendered.locator("h1")).to_have_text("Release notes")
    await expect(rendered.locator("strong")).to_have_text("bold")
    assert await rendered.locator("img").count() == 0
    assert await rendered.locator('a[href^="javascript"]').count() == 0
    assert await page.evaluate("window.pwned === undefined")
    await expect(page.locator(".paste-code")).to_be_hidden()
    await page.click("#paste-toggle")
    await expect(page.locator(".paste-code")).to_be_visible()
    await expect(page.locator("#L1")).to_contain_text("# Release notes")
    await expect(rendered).to_be_hidden()


async def test_download_clone_and_anonymous_delete(page: Any, client: httpx.AsyncClient) -> None:
    from playwright.async_api import expect

    await page.goto("/paste")
    await page.fill('input[name="title"]', "greeter")
    await page.fill("#paste-content", "def hi():\n    return 1\n")
    await page.select_option('select[name="language"]', "python")
    await page.press("#paste-content", "Control+Enter")
    await page.wait_for_url("**/p/*")
    paste_id = page.url.split("/p/")[1]
    async with page.expect_download() as info:
        await page.click("#paste-download")
    download = await info.value
    assert download.suggested_filename == "greeter.py"
    saved = Path(await download.path())
    assert saved.read_text() == "def hi():\n    return 1\n"  # noqa: ASYNC240
    await page.click("#paste-clone")
    await page.wait_for_url("**/paste?clone=*")
    assert await page.input_value("#paste-content") == "def hi():\n    return 1\n"
    assert await page.input_value('input[name="title"]') == "greeter"
    assert await page.input_value('select[name="language"]') == "python"
    await page.goto(f"/p/{paste_id}")
    delete = page.locator("#paste-delete")
    await expect(delete).to_be_visible()  # this browser kept the anonymous delete token
    await delete.click()
    await expect(delete).to_have_text("Really delete?")
    await delete.click()
    await expect(page.locator("#paste-deleted")).to_be_visible()
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 404


PREVIEW_BOTS = [
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "WhatsApp/2.23.20.0",
    "python-httpx",
]


async def test_link_previews_do_not_burn_and_the_reader_confirms(
    page: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    paste = await _create(client, content=SECRET, burn_after_read=True)
    url = f"/p/{paste['id']}"
    for agent in PREVIEW_BOTS:
        preview = await client.get(url, headers={"User-Agent": agent})
        assert preview.status_code == 200, agent
        assert "launch code" not in preview.text, agent
        assert preview.headers["cache-control"] == "no-store"
    await page.goto(url)
    await expect(page.locator("h1")).to_have_text("This paste can be read once")
    await page.click("#paste-burn-confirm")
    await expect(page.locator("#paste-code")).to_contain_text("the launch code is 0000")
    await page.goto(url)
    await expect(page.locator("#paste-code")).to_have_count(0)
    assert (await client.get(f"{url}/raw")).status_code == 404  # burned by the one reader


async def test_raw_still_reads_a_burn_paste_once(client: httpx.AsyncClient) -> None:
    paste = await _create(client, content=SECRET, burn_after_read=True)
    assert (await client.get(f"/p/{paste['id']}")).status_code == 200  # a preview
    assert (await client.get(f"/p/{paste['id']}/raw")).text == SECRET
    assert (await client.get(f"/p/{paste['id']}/raw")).status_code == 404
