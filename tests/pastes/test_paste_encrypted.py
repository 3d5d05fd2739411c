"""Zero-knowledge pastes: only well-formed ciphertext is stored and served, untouched."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import func, select

from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services
from tests.pastes.helpers import ciphertext


async def test_ciphertext_is_stored_and_served_as_is(
    client: httpx.AsyncClient, services: Services
) -> None:
    sealed = ciphertext()
    created = await client.post("/api/v1/pastes", json={"content": sealed, "encrypted": True})
    assert created.status_code == 201, created.text
    paste = created.json()
    assert paste["encrypted"] is True
    assert paste["language"] == "text"  # nothing is guessed from ciphertext
    assert (await client.get(f"/p/{paste['id']}/raw")).text == sealed
    assert (await client.get(f"/api/v1/pastes/{paste['id']}")).json()["content"] == sealed
    async with services.sessions() as db:
        row = await db.get(Paste, paste["id"])
        assert row is not None and row.encrypted and row.content == sealed
    page = (await client.get(f"/p/{paste['id']}")).text
    assert 'data-encrypted="1"' in page
    assert 'class="line"' not in page  # lines are built in the browser after decryption
    download = await client.get(f"/p/{paste['id']}/download")
    assert download.headers["content-disposition"].endswith('.encrypted.txt"')


async def test_language_hint_is_kept_but_checked(client: httpx.AsyncClient) -> None:
    hinted = await client.post(
        "/api/v1/pastes", json={"content": ciphertext(), "encrypted": True, "language": "py"}
    )
    assert hinted.status_code == 201
    assert hinted.json()["language"] == "python"
    bad = await client.post(
        "/api/v1/pastes", json={"content": ciphertext(), "encrypted": True, "language": "zzz"}
    )
    assert bad.status_code == 422
    assert "unknown language" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("not base64 at all!", "base64"),
        ("aGVsbG8=\n", "base64"),  # a newline is not standard base64
        ("-_-_", "base64"),  # URL-safe alphabet is refused: we store standard base64
        (base64.b64encode(b"x" * 28).decode(), "at least 29"),
    ],
)
async def test_malformed_ciphertext_is_refused(
    client: httpx.AsyncClient, services: Services, content: str, detail: str
) -> None:
    refused = await client.post("/api/v1/pastes", json={"content": content, "encrypted": True})
    assert refused.status_code == 422, refused.text
    assert detail in refused.json()["detail"]
    async with services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Paste)) == 0


async def test_password_and_burn_work_with_ciphertext(client: httpx.AsyncClient) -> None:
    sealed = ciphertext()
    body = {"content": sealed, "encrypted": True, "password": "pw", "burn_after_read": True}
    paste = (await client.post("/api/v1/pastes", json=body)).json()
    raw = f"/p/{paste['id']}/raw"
    assert (await client.get(raw)).status_code == 403
    assert (await client.get(raw, headers={"X-Paste-Password": "pw"})).text == sealed
    assert (await client.get(raw, headers={"X-Paste-Password": "pw"})).status_code == 404


async def test_form_flag_marks_ciphertext(client: httpx.AsyncClient) -> None:
    sealed = ciphertext()
    created = await client.post(
        "/api/v1/pastes",
        files={"content": (None, sealed), "encrypted": (None, "true")},
        headers={"Accept": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["encrypted"] is True
    refused = await client.post(
        "/api/v1/pastes", files={"content": (None, "plain"), "encrypted": (None, "1")}
    )
    assert refused.status_code == 422
