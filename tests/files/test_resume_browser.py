"""Real Chromium on /files: pause and resume an upload, and resume it after a page reload.

The upload is held at a chosen offset by intercepting its PATCH requests (Playwright
routes) with a small chunk size, so "mid-way" is a byte offset, not a moment in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.files.helpers import TUS
from tests.fixtures.browser import logged_in_page, wait_for_page
from tests.helpers import PASSWORD, bearer, login, register

pytestmark = pytest.mark.browser
CHUNK = 256 * 1024
SIZE = 16 * CHUNK  # 4 MiB: sixteen PATCHes
HOLD_AT = 6 * CHUNK  # the upload is stopped with 1.5 MiB on the server
# Only a safety net so a broken page cannot hang the suite; nothing is timed against it.
GIVE_UP_SECONDS = 300.0


class PatchGate:
    """Routes tus requests; holds back the PATCH at `hold_at` until the test decides."""

    def __init__(self) -> None:
        self.hold_at: int | None = None
        self.held: Any = None
        self.reached = asyncio.Event()
        self.patch_offsets: list[int] = []
        self.creations = 0

    async def handle(self, route: Any, request: Any) -> None:
        if request.method == "POST":
            self.creations += 1
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            self.patch_offsets.append(offset)
            if offset == self.hold_at:
                self.hold_at, self.held = None, route
                self.reached.set()
                return  # left pending: the request never reaches the server
        with contextlib.suppress(Exception):  # the page may have gone meanwhile
            await route.continue_()

    async def wait(self) -> str:
        """Wait until the armed PATCH is held; return the upload's file id."""
        async with asyncio.timeout(GIVE_UP_SECONDS):
            await self.reached.wait()
        self.reached.clear()
        url: str = self.held.request.url
        return url.rsplit("/", 1)[-1]

    def arm(self, hold_at: int) -> None:
        """Hold the next PATCH sent at `hold_at`."""
        self.hold_at = hold_at
        self.reached.clear()

    async def drop(self) -> None:
        """Fail the held request (the page usually cancelled it already)."""
        held, self.held = self.held, None
        with contextlib.suppress(Exception):
            await held.abort()

    async def release(self) -> None:
        """Let the held request through."""
        held, self.held = self.held, None
        await held.continue_()


async def _server_offset(client: httpx.AsyncClient, token: str, file_id: str) -> int:
    head = await client.head(f"/api/v1/files/tus/{file_id}", headers={**TUS, **bearer(token)})
    assert head.status_code == 200, head.headers
    return int(head.headers["upload-offset"])


async def _logged_in_page(browser_context: Any, client: httpx.AsyncClient) -> tuple[Any, str]:
    username = await register(client)
    page = await logged_in_page(browser_context, username, PASSWORD)
    return page, await login(client, username)


def _data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(3).randbytes(SIZE)
    path = tmp_path / "holiday.bin"  # from disk, so its lastModified (the fingerprint) is stable
    path.write_bytes(data)
    return path, data


async def _bar(page: Any) -> float:
    value: float = await page.locator(".upload progress").last.evaluate("bar => bar.value")
    return value


@pytest.mark.parametrize("settings_overrides", [{"files_upload_chunk_bytes": CHUNK}])
async def test_pause_and_resume_continue_from_the_server_offset(
    browser_context: Any, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page, token = await _logged_in_page(browser_context, client)
    gate = PatchGate()
    await page.route("**/api/v1/files/tus**", gate.handle)
    await page.goto("/files")
    path, data = _data_file(tmp_path)
    gate.arm(HOLD_AT)
    await page.set_input_files("#file-input", str(path))
    file_id = await gate.wait()
    assert gate.patch_offsets == [CHUNK * i for i in range(7)]
    assert await _server_offset(client, token, file_id) == HOLD_AT

    await page.click(".upload .pause")  # Pause: tus-js-client aborts the PATCH in flight
    await expect(page.locator(".upload .pause")).to_have_text("Resume")
    await expect(page.locator(".upload .state")).to_contain_text("(paused)")
    await gate.drop()
    assert await _server_offset(client, token, file_id) == HOLD_AT

    gate.arm(HOLD_AT)  # catch the first PATCH after Resume
    sent_before = len(gate.patch_offsets)
    await page.click(".upload .pause")
    await gate.wait()
    assert gate.patch_offsets[sent_before:] == [HOLD_AT]  # from where it stopped, not from 0
    assert await _bar(page) >= 100 * HOLD_AT / SIZE
    await gate.release()
    await expect(page.locator(".upload.done")).to_have_count(1, timeout=GIVE_UP_SECONDS * 1000)
    assert gate.creations == 1
    assert gate.patch_offsets[sent_before:] == [CHUNK * i for i in range(6, 16)]
    raw = await client.get(f"/f/{file_id}/raw", headers=bearer(token))
    assert raw.content == data


@pytest.mark.parametrize("settings_overrides", [{"files_upload_chunk_bytes": CHUNK}])
async def test_upload_resumes_after_a_page_reload(
    browser_context: Any, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page, token = await _logged_in_page(browser_context, client)
    gate = PatchGate()
    await page.route("**/api/v1/files/tus**", gate.handle)
    await page.goto("/files")
    path, data = _data_file(tmp_path)
    gate.arm(HOLD_AT)
    await page.set_input_files("#file-input", str(path))
    file_id = await gate.wait()

    await page.reload()  # mid-upload: the held PATCH dies with the page
    await gate.drop()
    assert await _server_offset(client, token, file_id) == HOLD_AT
    stored = await page.evaluate("Object.keys(localStorage)")
    assert [key for key in stored if key.startswith("tus::tus-br-holiday.bin-")], stored

    gate.arm(HOLD_AT)
    sent_before = len(gate.patch_offsets)
    await page.set_input_files("#file-input", str(path))  # the same file, added again
    assert await gate.wait() == file_id  # the same upload, found by its fingerprint
    assert gate.patch_offsets[sent_before:] == [HOLD_AT]
    assert await _bar(page) >= 100 * HOLD_AT / SIZE
    await gate.release()
    await expect(page.locator(".upload.done")).to_have_count(1, timeout=GIVE_UP_SECONDS * 1000)
    assert gate.creations == 1  # no second upload was created
    listed = (await client.get("/api/v1/files", headers=bearer(token))).json()
    assert [(f["id"], f["size"]) for f in listed] == [(file_id, SIZE)]
    raw = await client.get(f"/f/{file_id}/raw", headers=bearer(token))
    assert raw.content == data
    leftovers = await page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tus::'))")
    assert leftovers == []  # removeFingerprintOnSuccess


async def test_previews_load_in_the_browser(
    browser_context: Any, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    from meatlizard.videos.transcode import tools_missing
    from tests.files.helpers import PDF, png_2x2, upload, wav_one_second
    from tests.videos.helpers import make_sample

    if tools_missing():
        pytest.skip(f"the video preview needs ffmpeg: {tools_missing()}")
    clip = make_sample(tmp_path / "clip.mp4", "320x240", 1)
    page, token = await _logged_in_page(browser_context, client)
    image = await upload(client, token, png_2x2(), "red.png")
    await page.goto(f"/f/{image}")
    await wait_for_page(page, "document.querySelector('.preview img').complete")
    assert await page.eval_on_selector(".preview img", "i => i.naturalWidth") == 2

    for name, data, element, ready in (
        ("quiet.wav", wav_one_second(), "audio", "m => Math.round(m.duration)"),
        ("clip.mp4", clip, "video", "m => m.videoWidth"),
    ):
        file_id = await upload(client, token, data, name)
        await page.goto(f"/f/{file_id}")
        selector = f".preview {element}"
        await wait_for_page(page, f"document.querySelector('{selector}').readyState >= 1")
        assert await page.eval_on_selector(selector, ready) == (1 if element == "audio" else 320)

    pdf = await upload(client, token, PDF, "doc.pdf")
    async with page.expect_response(f"**/f/{pdf}/raw") as framed:
        await page.goto(f"/f/{pdf}")
    answer = await framed.value
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline;")
    assert await page.locator(".preview iframe.pdf").count() == 1
