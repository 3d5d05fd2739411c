"""Upload options in tus metadata, renaming rules, the folder filter and the owner's panel."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from meatlizard.core.db import utcnow
from meatlizard.core.services import Services
from meatlizard.files.jobs import FileSweeper
from meatlizard.files.models import StoredFile
from tests.files.helpers import TUS, metadata, patch, upload
from tests.files.test_tus import stored_keys
from tests.helpers import bearer, user_token


async def create_with(
    client: httpx.AsyncClient, token: str, size: int, **meta: str
) -> httpx.Response:
    """Create a tus upload with the given Upload-Metadata values."""
    headers = {**TUS, **bearer(token), "Upload-Length": str(size)}
    headers["Upload-Metadata"] = metadata(filename="notes.txt", filetype="text/plain", **meta)
    return await client.post("/api/v1/files/tus", headers=headers)


def when(value: str) -> datetime:
    """Parse an API timestamp."""
    return datetime.fromisoformat(value)


async def test_tus_metadata_sets_folder_visibility_and_expiry(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    created = await create_with(
        client, token, 5, folder="inbox/2024", visibility="private", expires_in="1h"
    )
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    assert (await patch(client, token, url, 0, b"hello")).status_code == 204
    read = (
        await client.get(f"/api/v1/files/{url.rsplit('/', 1)[-1]}", headers=bearer(token))
    ).json()
    assert (read["folder"], read["visibility"]) == ("inbox/2024", "private")
    # The lifetime counts from completion, not from when the upload was created.
    assert when(read["expires_at"]) - when(read["completed_at"]) == timedelta(hours=1)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        assert (await stranger.get(read["raw_url"])).status_code == 404  # private


async def test_tus_metadata_defaults(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, b"plain")
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert (read["folder"], read["visibility"], read["expires_at"]) == ("", "unlisted", None)


@pytest.mark.parametrize(
    ("meta", "detail"),
    [
        (
            {"visibility": "secret"},
            "Upload-Metadata visibility must be one of public, unlisted, private, not 'secret'",
        ),
        (
            {"expires_in": "2y"},
            "Upload-Metadata expires_in must be one of 10m, 1h, 1d, 1w, 1M, never, not '2y'",
        ),
        ({"folder": "x" * 256}, "Upload-Metadata folder is longer than 255 characters"),
    ],
)
async def test_bad_metadata_is_refused_before_anything_exists(
    client: httpx.AsyncClient, services: Services, meta: dict[str, str], detail: str
) -> None:
    token = await user_token(client)
    refused = await create_with(client, token, 5, **meta)
    assert refused.status_code == 400
    assert refused.json()["detail"] == detail
    assert refused.headers["Tus-Resumable"] == "1.0.0"
    assert (await client.get("/api/v1/files", headers=bearer(token))).json() == []
    assert (await client.get("/api/v1/files/quota", headers=bearer(token))).json()[
        "used_bytes"
    ] == 0
    assert await stored_keys(services) == []


async def test_short_expiry_does_not_sweep_an_unfinished_upload(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    url = (await create_with(client, token, 10, expires_in="10m")).headers["Location"]
    assert (await patch(client, token, url, 0, b"12345")).status_code == 204
    file_id = url.rsplit("/", 1)[-1]
    async with services.sessions() as db:  # the upload ran longer than the file's lifetime
        item = await db.get(StoredFile, file_id)
        assert item is not None and item.expires_at is not None
        item.created_at -= timedelta(hours=1)
        item.expires_at -= timedelta(hours=1)
        await db.commit()
    assert await FileSweeper(services.sessions, services.storage).sweep_once() == 0
    assert (await patch(client, token, url, 5, b"67890")).status_code == 204
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert when(read["expires_at"]) - when(read["completed_at"]) == timedelta(minutes=10)
    assert when(read["expires_at"]) > utcnow()
    assert (await client.get(read["raw_url"])).content == b"1234567890"


@pytest.mark.parametrize("name", ["...", " . ", "photos/", "a\\ .."])
async def test_rename_refuses_a_name_that_cleans_to_nothing(
    client: httpx.AsyncClient, name: str
) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, b"x", "keep.txt")
    refused = await client.patch(
        f"/api/v1/files/{file_id}", json={"name": name, "folder": "moved"}, headers=bearer(token)
    )
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["body", "name"]
    assert problem["msg"] == "needs at least one character other than spaces, dots and slashes"
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert (read["name"], read["folder"]) == ("keep.txt", "")  # nothing was half-applied


async def test_folder_filter_on_the_files_page(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    loose = await upload(client, token, b"a", "loose.txt")
    nested = await upload(client, token, b"b", "deep.txt")
    await client.patch(f"/api/v1/files/{nested}", json={"folder": "a b/c&d"}, headers=bearer(token))
    async with httpx.AsyncClient(base_url=str(client.base_url), headers=bearer(token)) as owner:
        everything = (await owner.get("/files")).text
        assert f'data-id="{loose}"' in everything and f'data-id="{nested}"' in everything
        assert 'href="/files?folder=a%20b/c%26d"' in everything
        filtered = (await owner.get("/files", params={"folder": "a b/c&d"})).text
        assert f'data-id="{nested}"' in filtered and f'data-id="{loose}"' not in filtered
        assert 'value="a b/c&amp;d"' in filtered  # the next uploads go into this folder
        empty = (await owner.get("/files", params={"folder": "nothing here"})).text
        assert 'id="files-empty"' in empty and "nothing here/" in empty


async def test_only_the_owner_gets_the_settings_panel(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)  # the first account is the admin
    owner = await user_token(client)
    other = await user_token(client)
    file_id = await upload(client, owner, b"mine", "mine.txt")
    base = str(client.base_url)
    for token, sees in ((owner, True), (other, False), (admin, False), (None, False)):
        headers = bearer(token) if token else {}
        async with httpx.AsyncClient(base_url=base, headers=headers) as viewer:
            page = await viewer.get(f"/f/{file_id}")
        assert page.status_code == 200
        assert ('id="file-settings"' in page.text) is sees
        assert ("file-settings.js" in page.text) is sees
