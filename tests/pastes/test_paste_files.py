"""Line links, downloads, QR codes and the delete token's presence, on both backends."""

from __future__ import annotations

import io
import threading

import httpx
import pytest
import segno
from sqlalchemy import update

from meatlizard.pastes import highlight, rendering
from meatlizard.pastes.hot import cache_key
from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token


async def _create(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post("/api/v1/pastes", json={"content": "print('hi')\n", **body})
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


async def test_lines_are_numbered_and_linkable_from_one(client: httpx.AsyncClient) -> None:
    paste = await _create(client, content="\n\nx = '''a\nb'''\n", language="python")
    page = (await client.get(f"/p/{paste['id']}")).text
    for n in range(1, 5):
        assert f'id="L{n}"' in page and f'href="#L{n}"' in page and f'data-line="{n}"' in page
    assert 'id="L5"' not in page  # the final newline ends line 4, it adds no line
    assert 'id="L-' not in page


@pytest.mark.parametrize(
    ("title", "language", "name"),
    [
        ("greeting", "python", "greeting.py"),
        ("", "markdown", "{id}.md"),
        ("notes", "text", "notes.txt"),
        ("../../etc/pass wd", "rust", "etc-pass-wd.rs"),
        ('a"b;c', "javascript", "a-b-c.js"),
    ],
)
async def test_download_is_a_named_file(
    client: httpx.AsyncClient, title: str, language: str, name: str
) -> None:
    paste = await _create(client, title=title, language=language)
    got = await client.get(f"/p/{paste['id']}/download")
    assert got.status_code == 200
    expected = name.format(id=paste["id"])
    assert got.headers["content-disposition"] == f'attachment; filename="{expected}"'
    assert got.text == "print('hi')\n"


async def test_download_honours_password_and_burn(client: httpx.AsyncClient) -> None:
    locked = await _create(client, password="pw-pw")
    assert (await client.get(f"/p/{locked['id']}/download")).status_code == 403
    opened = await client.get(f"/p/{locked['id']}/download", headers={"X-Paste-Password": "pw-pw"})
    assert opened.status_code == 200
    burn = await _create(client, burn_after_read=True)
    assert (await client.get(f"/p/{burn['id']}/download")).status_code == 200
    assert (await client.get(f"/p/{burn['id']}/download")).status_code == 404


def _expected_svg(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2)
    return buffer.getvalue()


async def test_qr_code_encodes_the_address_without_burning(client: httpx.AsyncClient) -> None:
    paste = await _create(client, burn_after_read=True)
    qr = await client.get(f"/p/{paste['id']}/qr.svg")
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.content == _expected_svg(str(paste["url"]))
    assert b"<svg" in qr.content
    assert (await client.get(f"/p/{paste['id']}/raw")).status_code == 200  # not burned by QR
    assert (await client.get(f"/p/{paste['id']}/qr.svg")).status_code == 404
    assert (await client.get("/p/nosuchpaste/qr.svg")).status_code == 404


async def test_qr_code_of_a_private_paste_is_owner_only(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    client.cookies.clear()
    created = await client.post(
        "/api/v1/pastes", json={"content": "x", "visibility": "private"}, headers=bearer(token)
    )
    paste = created.json()
    assert (await client.get(f"/p/{paste['id']}/qr.svg")).status_code == 404
    mine = await client.get(f"/p/{paste['id']}/qr.svg", headers=bearer(token))
    assert mine.status_code == 200


async def test_delete_token_appears_only_when_there_is_one(client: httpx.AsyncClient) -> None:
    anonymous = await _create(client)
    assert isinstance(anonymous["delete_token"], str)
    fetched = (await client.get(f"/api/v1/pastes/{anonymous['id']}")).json()
    assert "delete_token" not in fetched
    token = await user_token(client)
    owned = await client.post("/api/v1/pastes", json={"content": "mine"}, headers=bearer(token))
    assert owned.status_code == 201
    assert "delete_token" not in owned.json()
    listed = (await client.get("/api/v1/pastes", headers=bearer(token))).json()
    assert listed and all("delete_token" not in p for p in listed)


async def test_owner_sees_the_delete_button(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    owned = await client.post("/api/v1/pastes", json={"content": "mine"}, headers=bearer(token))
    paste_id = owned.json()["id"]
    mine = (await client.get(f"/p/{paste_id}", headers=bearer(token))).text
    assert 'data-can-delete="1"' in mine
    client.cookies.clear()
    theirs = (await client.get(f"/p/{paste_id}")).text
    assert 'data-can-delete="0"' in theirs
    assert 'id="paste-delete" hidden' in theirs


@pytest.mark.parametrize("settings_overrides", [{"paste_highlight_processes": 0}])
async def test_pygments_runs_off_the_event_loop(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without helper processes, in a thread (test_paste_pool.py covers the helpers)."""
    loop_thread = threading.get_ident()
    seen: dict[str, int] = {}
    render, detect = highlight.render_lines, highlight.detect_language

    def spy_render(content: str, language: str) -> object:
        seen["render"] = threading.get_ident()
        return render(content, language)

    def spy_detect(content: str, requested: str | None) -> str:
        seen["detect"] = threading.get_ident()
        return detect(content, requested)

    for module in (highlight, rendering):  # creation, then a redraw on view
        monkeypatch.setattr(module, "render_lines", spy_render)
    monkeypatch.setattr(highlight, "detect_language", spy_detect)
    paste = await _create(client, content="#!/bin/bash\necho hi\n")
    assert paste["language"] == "bash"
    assert set(seen) == {"render", "detect"}  # both at creation
    assert loop_thread not in seen.values()
    seen.clear()
    async with services.sessions() as db:  # a stale rendering is drawn again, also off the loop
        await db.execute(update(Paste).where(Paste.id == paste["id"]).values(rendered_version=None))
        await db.commit()
    await services.cache.delete(cache_key(paste["id"]))  # as after a restart
    assert "echo" in (await client.get(f"/p/{paste['id']}")).text
    assert set(seen) == {"render"}
    assert loop_thread not in seen.values()
