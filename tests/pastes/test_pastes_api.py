"""Pastes API, raw and view pages against the live server, on both backends."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx

from meatlizard.app import create_app
from meatlizard.core.db import utcnow
from meatlizard.core.settings import Settings
from meatlizard.pastes import service
from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token


async def _create(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post("/api/v1/pastes", json={"content": "print('hi')\n", **body})
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


async def test_create_view_and_raw(client: httpx.AsyncClient) -> None:
    paste = await _create(client, title="greeting", language="python")
    assert str(paste["url"]).endswith(f"/p/{paste['id']}")
    raw = await client.get(f"/p/{paste['id']}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.text == "print('hi')\n"
    page = await client.get(f"/p/{paste['id']}")
    assert page.status_code == 200
    assert 'id="L1"' in page.text and 'href="#L1"' in page.text
    assert 'id="L-1"' not in page.text and '#L-1"' not in page.text  # a random token may hold L-1
    assert "greeting" in page.text


async def test_curl_raw_body_and_form(client: httpx.AsyncClient) -> None:
    headers = {"User-Agent": "curl/8.5.0"}
    raw = await client.post("/api/v1/pastes", content="héllo\n", headers=headers)
    assert raw.status_code == 201, raw.text
    url = raw.text.strip()
    assert "/p/" in url
    assert (await client.get(url + "/raw")).text == "héllo\n"
    form = await client.post(
        "/api/v1/pastes", files={"content": (None, "from form")}, headers=headers
    )
    assert form.status_code == 201, form.text
    assert (await client.get(form.text.strip() + "/raw")).text == "from form"


async def test_language_autodetect_and_unknown(client: httpx.AsyncClient) -> None:
    paste = await _create(client, content="#!/bin/bash\necho hi\n")
    assert paste["language"] == "bash"
    bad = await client.post("/api/v1/pastes", json={"content": "x", "language": "nope-lang"})
    assert bad.status_code == 422
    assert "unknown language" in bad.json()["detail"]


async def test_bad_input(client: httpx.AsyncClient) -> None:
    empty = await client.post("/api/v1/pastes", json={"content": ""})
    assert empty.status_code == 422
    binary = await client.post("/api/v1/pastes", content=b"\xff\xfe\x00bad")
    assert binary.status_code == 422
    assert "UTF-8" in binary.json()["detail"]
    huge = await client.post("/api/v1/pastes", content=b"a" * (512 * 1024 + 1))
    assert huge.status_code == 413


async def test_burn_after_read_is_race_safe(client: httpx.AsyncClient) -> None:
    paste = await _create(client, burn_after_read=True)
    results = await asyncio.gather(*(client.get(f"/p/{paste['id']}/raw") for _ in range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [404] * 7
    assert (await client.get(f"/p/{paste['id']}/raw")).status_code == 404


async def test_private_paste_is_owner_only(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    response = await client.post(
        "/api/v1/pastes", json={"content": "secret", "visibility": "private"}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    paste_id = response.json()["id"]
    client.cookies.clear()  # login left a session cookie; read anonymously below
    assert (await client.get(f"/p/{paste_id}/raw", headers=bearer(token))).text == "secret"
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 404
    other = await user_token(client)
    assert (await client.get(f"/p/{paste_id}/raw", headers=bearer(other))).status_code == 404
    client.cookies.clear()
    anonymous = await client.post("/api/v1/pastes", json={"content": "x", "visibility": "private"})
    assert anonymous.status_code == 422


async def test_list_and_delete_own_pastes(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    created = await client.post("/api/v1/pastes", json={"content": "mine"}, headers=bearer(token))
    paste_id = created.json()["id"]
    listed = await client.get("/api/v1/pastes", headers=bearer(token))
    assert [p["id"] for p in listed.json()] == [paste_id]
    other = await user_token(client)
    assert (
        await client.delete(f"/api/v1/pastes/{paste_id}", headers=bearer(other))
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/pastes/{paste_id}", headers=bearer(token))
    ).status_code == 204
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 404


async def test_expiry_option_sets_deadline(client: httpx.AsyncClient) -> None:
    paste = await _create(client, expires_in="10m")
    assert paste["expires_at"] is not None
    never = await _create(client, expires_in="never")
    assert never["expires_at"] is None


async def test_editor_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/paste")
    assert page.status_code == 200
    assert 'id="paste-form"' in page.text


async def test_password_protected_paste(client: httpx.AsyncClient) -> None:
    paste = await _create(client, password="hunter22")
    assert paste["has_password"] is True
    url = f"/p/{paste['id']}/raw"
    missing = await client.get(url)
    assert missing.status_code == 403
    assert "print" not in missing.text
    wrong = await client.get(url, headers={"X-Paste-Password": "nope"})
    assert wrong.status_code == 403
    assert "print" not in wrong.text
    right = await client.get(url, headers={"X-Paste-Password": "hunter22"})
    assert right.text == "print('hi')\n"
    page = await client.get(f"/p/{paste['id']}")
    assert "Password needed" in page.text
    assert "print" not in page.text
    csrf = client.cookies["ml_csrf"]
    unlocked = await client.post(
        f"/p/{paste['id']}", data={"password": "hunter22", "csrf_token": csrf}
    )
    assert unlocked.status_code == 200
    assert "hi" in unlocked.text
    denied = await client.post(f"/p/{paste['id']}", data={"password": "x", "csrf_token": csrf})
    assert denied.status_code == 403
    assert "Wrong password" in denied.text


async def test_anonymous_delete_token(client: httpx.AsyncClient) -> None:
    paste = await _create(client)
    token = paste["delete_token"]
    assert isinstance(token, str)
    url = f"/api/v1/pastes/{paste['id']}"
    assert (await client.delete(url, headers={"X-Delete-Token": "wrong"})).status_code == 403
    assert (await client.get(f"/p/{paste['id']}/raw")).status_code == 200
    assert (await client.delete(url, params={"token": token})).status_code == 204
    assert (await client.get(f"/p/{paste['id']}/raw")).status_code == 404


async def test_expired_paste_vanishes_and_is_swept(
    client: httpx.AsyncClient, services: Services
) -> None:
    paste = await _create(client, expires_in="10m")
    later = time.time() + 10 * 60 + 1  # ten minutes pass, for the cached copy ...
    services.pastes.clock = lambda: later
    async with services.sessions() as db:  # ... and for the database
        row = await db.get(Paste, paste["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    assert (await client.get(f"/p/{paste['id']}/raw")).status_code == 404
    async with services.sessions() as db:
        assert await service.sweep_expired(db) >= 1
        assert await db.get(Paste, paste["id"]) is None


def test_no_other_api_route_hides_behind_the_pastes_router() -> None:
    """The pastes router is matched first (app.py): nothing else may live under its prefix."""
    app = create_app(Settings(inference="fallback"))
    for path, operations in app.openapi()["paths"].items():
        tags = {tag for operation in operations.values() for tag in operation.get("tags", [])}
        assert path.startswith("/api/v1/pastes") == ("pastes" in tags), path


async def test_a_strangers_delete_of_a_private_paste_is_a_404(client: httpx.AsyncClient) -> None:
    owner, stranger = await user_token(client), await user_token(client)
    created = await client.post(
        "/api/v1/pastes", json={"content": "mine", "visibility": "private"}, headers=bearer(owner)
    )
    paste_id = created.json()["id"]
    refused = await client.delete(f"/api/v1/pastes/{paste_id}", headers=bearer(stranger))
    missing = await client.delete("/api/v1/pastes/nosuchpaste", headers=bearer(stranger))
    assert (refused.status_code, refused.json()) == (missing.status_code, missing.json())
    assert refused.status_code == 404
    kept = await client.get(f"/api/v1/pastes/{paste_id}", headers=bearer(owner))
    assert kept.status_code == 200
