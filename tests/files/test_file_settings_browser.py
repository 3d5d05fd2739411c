"""Real Chromium: the owner manages a file on /f/{id} and sets upload options on /files."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.files.helpers import upload
from tests.fixtures.browser import logged_in_page
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser
# Only a safety net so a broken page cannot hang the suite; nothing is timed against it.
GIVE_UP_SECONDS = 300.0


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
    await page.get_by_label("Show").select_option("work/2024")
    await page.wait_for_url("**/files?folder=work%2F2024")
    await expect(page.get_by_label("Show")).to_have_value("work/2024")
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


async def test_upload_password_and_download_limit_never_rest_in_local_storage(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto("/files")
    await page.locator("#upload-options summary").click()
    await page.get_by_label("Password").fill("s3cret-upload")
    await page.get_by_label("Max downloads").fill("3")
    await expect(page.locator("#upload-options-state")).to_have_text(
        "· no folder · unlisted · no expiry · password · at most 3 downloads"
    )

    # Hold the first PATCH: the upload exists and tus-js-client has stored it for resuming.
    held: list[Any] = []
    patching = asyncio.Event()

    async def hold_patch(route: Any, request: Any) -> None:
        if request.method == "PATCH" and not held:
            held.append(route)
            patching.set()
            return
        await route.continue_()

    await page.route("**/api/v1/files/tus**", hold_patch)
    await page.set_input_files(
        "#file-input", files=[{"name": "b.txt", "mimeType": "text/plain", "buffer": b"b\n"}]
    )
    async with asyncio.timeout(GIVE_UP_SECONDS):
        await patching.wait()
    stored = await page.evaluate(
        """() => Object.keys(localStorage).filter((k) => k.startsWith("tus::"))
            .map((k) => localStorage.getItem(k))"""
    )
    assert len(stored) == 1 and '"filename":"b.txt"' in stored[0]
    assert "s3cret-upload" not in stored[0] and "password" not in stored[0]
    await held[0].continue_()
    await expect(page.locator(".upload.done")).to_have_count(1)

    [item] = (await client.get("/api/v1/files", headers=bearer(token))).json()
    assert (item["has_password"], item["max_downloads"]) == (True, 3)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as visitor:
        assert (await visitor.get(item["raw_url"])).status_code == 403
        opened = await visitor.get(item["raw_url"], headers={"X-File-Password": "s3cret-upload"})
        assert opened.content == b"b\n"


async def test_a_bad_download_limit_is_the_servers_message(
    browser_context: Any, client: httpx.AsyncClient
) -> None:
    from playwright.async_api import expect

    username = await register(client)
    token = await login(client, username)
    page = await logged_in_page(browser_context, username, PASSWORD)
    await page.goto("/files")
    await page.locator("#upload-options summary").click()
    await page.get_by_label("Max downloads").fill("0")
    await page.set_input_files(
        "#file-input", files=[{"name": "c.txt", "mimeType": "text/plain", "buffer": b"c\n"}]
    )
    await expect(page.locator(".upload.failed .state")).to_have_text(
        "Failed: Upload-Metadata max_downloads must be a whole number from 1 to 1000000, not '0'"
    )
    assert (await client.get("/api/v1/files", headers=bearer(token))).json() == []
