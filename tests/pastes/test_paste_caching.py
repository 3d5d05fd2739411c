"""Validators on paste reads: 304 for unchanged public text, never for one-time or secrets."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update

from meatlizard.core.db import utcnow
from meatlizard.pastes.caching import code_version, page_tag
from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token


async def _create(client: httpx.AsyncClient, **body: object) -> str:
    body = {"content": "print('hi')\n", "language": "python", **body}
    response = await client.post("/api/v1/pastes", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_raw_text_revalidates_with_its_etag(client: httpx.AsyncClient) -> None:
    paste_id = await _create(client)
    for path in (f"/p/{paste_id}/raw", f"/p/{paste_id}/download"):
        first = await client.get(path)
        assert first.headers["cache-control"] == "no-cache"
        etag = first.headers["etag"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        other = await client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.text == "print('hi')\n"
    assert (await client.get(f"/p/{paste_id}/raw")).headers["etag"] == etag  # same text, same tag


async def test_an_expired_paste_is_gone_even_to_a_revalidating_cache(
    client: httpx.AsyncClient, services: Services
) -> None:
    paste_id = await _create(client, expires_in="10m")
    etag = (await client.get(f"/p/{paste_id}/raw")).headers["etag"]
    later = time.time() + 10 * 60 + 1  # ten minutes pass, for the cached copy ...
    services.pastes.clock = lambda: later
    async with services.sessions() as db:  # ... and for the database
        expire = update(Paste).where(Paste.id == paste_id)
        await db.execute(expire.values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    response = await client.get(f"/p/{paste_id}/raw", headers={"If-None-Match": etag})
    assert response.status_code == 404


async def test_burn_password_and_private_pastes_are_never_stored(
    client: httpx.AsyncClient,
) -> None:
    burned = await _create(client, burn_after_read=True)
    locked = await _create(client, password="pw")
    token = await user_token(client)
    response = await client.post(
        "/api/v1/pastes",
        json={"content": "mine", "visibility": "private"},
        headers=bearer(token),
    )
    private = str(response.json()["id"])
    reads = [
        (f"/p/{locked}/raw", {"X-Paste-Password": "pw", "If-None-Match": "*"}),
        (f"/p/{private}/raw", {**bearer(token), "If-None-Match": "*"}),
        (f"/p/{private}", {**bearer(token), "If-None-Match": "*"}),
        (f"/p/{burned}", {"If-None-Match": "*"}),  # the confirm step: it does not burn
    ]
    for path, headers in reads:
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
        assert "etag" not in response.headers, path
    read = await client.post(f"/p/{burned}", data={"csrf_token": client.cookies["ml_csrf"]})
    assert (read.status_code, read.headers["cache-control"]) == (200, "no-store")
    assert "etag" not in read.headers
    assert (await client.get(f"/p/{burned}")).status_code == 404


async def test_the_page_revalidates_per_viewer(client: httpx.AsyncClient) -> None:
    paste_id = await _create(client)
    first = await client.get(f"/p/{paste_id}")  # issues the CSRF cookie; no tag for it yet
    assert first.headers["cache-control"] == "private, no-cache"
    assert "etag" not in first.headers
    page = await client.get(f"/p/{paste_id}")
    etag = page.headers["etag"]
    unchanged = await client.get(f"/p/{paste_id}", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    token = await user_token(client)
    as_user = await client.get(f"/p/{paste_id}", headers={**bearer(token), "If-None-Match": etag})
    assert as_user.status_code == 200 and as_user.headers["etag"] != etag


def test_every_worker_names_its_pages_alike() -> None:
    """Workers of one install draw the same page validators (a 304 from any of them)."""
    script = "from meatlizard.pastes.caching import page_tag; print(page_tag('v1', 'viewer'))"
    tags = {
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()
        for _ in range(2)
    }
    assert tags == {page_tag("v1", "viewer")}


def test_a_changed_template_or_module_retires_the_page_validators(tmp_path: Path) -> None:
    (tmp_path / "pastes").mkdir()
    (tmp_path / "pastes" / "view.html").write_text("<p>{{ paste }}</p>")
    (tmp_path / "render.py").write_text("WIDTH = 80\n")
    first = code_version(tmp_path)
    (tmp_path / "notes.txt").write_text("not code")
    assert code_version(tmp_path) == first
    (tmp_path / "pastes" / "view.html").write_text("<p>{{ paste }}!</p>")
    changed = code_version(tmp_path)
    assert changed != first
    (tmp_path / "render.py").write_text("WIDTH = 100\n")
    assert code_version(tmp_path) not in (first, changed)
