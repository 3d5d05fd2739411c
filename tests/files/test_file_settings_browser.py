"""Real Chromium: the owner manages a file on /f/{id} and sets upload options on /files."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.files.helpers import upload
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser


async def test_owner_renames_moves_protects_and_deletes(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    file_id = await upload(client, token, b"meeting notes\n", "notes.txt")
    other_id = await upload(client, token, b"stays put\n", "other.txt")
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto(f"/f/{file_id}")
    settings = page.locator("#file-settings")
    await expect(settings).to_contain_text("no password")
    await expect(settings).to_contain_text("never expires")

    # A name that cleans to nothing: the server's message shows next to the form.
    name = page.get_by_label("Name")
    await name.fill(" ... ")
    await name.press("Enter")
    await expect(page.locator("#file-error")).to_have_text(
        "name: needs at least one character other than spaces, dots and slashes"
    )
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()

    # Rename, move and protect it with the keyboard only: Enter submits.
    await name.fill("minutes.txt")
    await page.get_by_label("Folder").fill("work/2024")
    await page.get_by_label("Password").fill("hunter2")
    await page.get_by_label("Password").press("Enter")
    await expect(page.locator("#file-status")).to_have_text("Saved.")
    await expect(page.locator("h1")).to_have_text("minutes.txt")
    await expect(settings).to_contain_text("password set")
    await expect(settings).to_contain_text("in work/2024/")

    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert (read["name"], read["folder"], read["has_password"]) == (
        "minutes.txt",
        "work/2024",
        True,
    )

    await page.goto("/files")
    await expect(page.locator("#file-list tbody tr")).to_have_count(2)
    await page.locator("#folders").get_by_role("link", name="work/2024/").click()
    await expect(page.locator("#folders a.active")).to_have_text("work/2024/")
    await expect(page.locator("#file-list tbody tr")).to_have_count(1)
    await expect(page.locator(f'#file-list tr[data-id="{file_id}"]')).to_contain_text("minutes.txt")
    await expect(page.locator(f'#file-list tr[data-id="{other_id}"]')).to_have_count(0)

    async with httpx.AsyncClient(base_url=str(client.base_url)) as visitor:
        locked = await visitor.get(f"/f/{file_id}")
        assert locked.status_code == 200
        assert "Password needed" in locked.text and "meeting notes" not in locked.text
        assert (await visitor.get(f"/f/{file_id}/raw")).status_code == 403
        opened = await visitor.get(f"/f/{file_id}/raw", headers={"X-File-Password": "hunter2"})
        assert opened.content == b"meeting notes\n"

    # Remove the password, then delete the file after confirming.
    await page.goto(f"/f/{file_id}")
    await page.get_by_label("Remove the password").check()
    await page.get_by_role("button", name="Save").click()
    await expect(settings).to_contain_text("no password")
    dialogs: list[str] = []

    async def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.get_by_role("button", name="Delete file").click()
    await page.wait_for_url("**/files")
    assert dialogs and "Delete this file" in dialogs[0]
    gone = await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))
    assert gone.status_code == 404


async def test_upload_options_apply_to_the_next_uploads(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto("/files")
    await page.locator("#upload-options summary").click()
    await page.get_by_label("Folder").fill("inbox")
    await page.get_by_label("Visibility").select_option("private")
    await page.get_by_label("Expires").select_option("1d")
    await expect(page.locator("#upload-options-state")).to_have_text(
        "· into inbox/ · private · expire after 1 day"
    )
    await page.set_input_files(
        "#file-input", files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": b"a\n"}]
    )
    await expect(page.locator(".upload.done")).to_have_count(1)
    [item] = (await client.get("/api/v1/files", headers=bearer(token))).json()
    assert (item["name"], item["folder"], item["visibility"]) == ("a.txt", "inbox", "private")
    lifetime = datetime.fromisoformat(item["expires_at"]) - datetime.fromisoformat(
        item["completed_at"]
    )
    assert lifetime == timedelta(days=1)
