"""Password forms on /f/{id} and /p/{id} carry the CSRF token and know who is logged in."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.files.helpers import upload
from tests.helpers import PASSWORD, bearer, register, user_token

SECRET = "open sesame"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _protected_file(client: httpx.AsyncClient, owner: str) -> str:
    file_id = await upload(client, owner, b"hidden treasure", "treasure.txt")
    changed = await client.patch(
        f"/api/v1/files/{file_id}", json={"password": SECRET}, headers=bearer(owner)
    )
    assert changed.status_code == 200, changed.text
    return f"/f/{file_id}"


async def _protected_paste(client: httpx.AsyncClient, owner: str) -> str:
    made = await client.post(
        "/api/v1/pastes",
        json={"content": "hidden treasure", "password": SECRET},
        headers=bearer(owner),
    )
    assert made.status_code == 201, made.text
    return f"/p/{made.json()['id']}"


async def _unlock(viewer: httpx.AsyncClient, page: str, password: str) -> httpx.Response:
    form = await viewer.get(page)
    assert form.status_code == 200
    match = TOKEN_RE.search(form.text)
    assert match is not None, "the password form carries no CSRF token"
    return await viewer.post(page, data={"password": password, "csrf_token": match.group(1)})


@pytest.mark.parametrize("kind", ["file", "paste"])
async def test_logged_in_viewer_unlocks_as_themselves(
    client: httpx.AsyncClient, live_server: str, kind: str
) -> None:
    owner = await user_token(client)
    page = await (_protected_file if kind == "file" else _protected_paste)(client, owner)
    async with httpx.AsyncClient(base_url=live_server) as viewer:
        name = await register(viewer)
        login = await viewer.post(
            "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
        )
        assert login.status_code == 200
        wrong = await _unlock(viewer, page, "nope")
        assert wrong.status_code == 403 and "Wrong password" in wrong.text
        opened = await _unlock(viewer, page, SECRET)
        assert opened.status_code == 200, opened.text
        assert "hidden treasure" in opened.text or "treasure.txt" in opened.text
        assert f'class="who">{name}</a>' in opened.text  # rendered for the logged-in user
        forged = await viewer.post(page, data={"password": SECRET, "csrf_token": "forged"})
        assert forged.status_code == 403
        assert "CSRF" in forged.json()["detail"]


@pytest.mark.parametrize("kind", ["file", "paste"])
async def test_anonymous_viewer_unlocks(
    client: httpx.AsyncClient, live_server: str, kind: str
) -> None:
    owner = await user_token(client)
    page = await (_protected_file if kind == "file" else _protected_paste)(client, owner)
    async with httpx.AsyncClient(base_url=live_server) as viewer:
        opened = await _unlock(viewer, page, SECRET)
        assert opened.status_code == 200, opened.text
        assert 'href="/login"' in opened.text
        missing = await viewer.post(page, data={"password": SECRET})
        assert missing.status_code == 403
