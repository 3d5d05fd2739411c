"""Upload options in tus metadata, renaming rules, the folder filter and the owner's panel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest

from meatlizard.core.db import utcnow
from meatlizard.core.security import verify_password
from meatlizard.files.jobs import FileSweeper
from meatlizard.files.models import StoredFile
from meatlizard.runtime import Services
from tests.files.helpers import TUS, metadata, patch, stored_keys, upload
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
        ({"password": "p" * 201}, "Upload-Metadata password is longer than 200 characters"),
        *(
            (
                {"max_downloads": bad},
                "Upload-Metadata max_downloads must be a whole number from 1 to 1000000, "
                f"not {bad!r}",
            )
            for bad in ("0", "-1", "1.5", "ten", "1000001", " 3", "\u0663")  # Arabic-Indic 3
        ),
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


async def test_tus_metadata_sets_password_and_download_limit(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    created = await create_with(client, token, 5, password="hunter2", max_downloads="2")
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    assert (await patch(client, token, url, 0, b"hello")).status_code == 204
    file_id = url.rsplit("/", 1)[-1]
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert (read["has_password"], read["max_downloads"]) == (True, 2)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        assert (await stranger.get(read["raw_url"])).status_code == 403
        wrong = await stranger.get(read["raw_url"], headers={"X-File-Password": "hunter3"})
        assert wrong.status_code == 403
        right = {"X-File-Password": "hunter2"}
        for _ in range(2):
            opened = await stranger.get(read["raw_url"], headers=right)
            assert opened.content == b"hello"
        assert (await stranger.get(read["raw_url"], headers=right)).status_code == 410

    # Hashed as the settings panel hashes: same argon2id parameters, never the clear text.
    other = await upload(client, token, b"x")
    await client.patch(f"/api/v1/files/{other}", json={"password": "s"}, headers=bearer(token))
    async with services.sessions() as db:
        by_tus, by_panel = await db.get(StoredFile, file_id), await db.get(StoredFile, other)
        assert by_tus is not None and by_panel is not None
        assert by_tus.password_hash is not None and by_panel.password_hash is not None
    assert "hunter2" not in by_tus.password_hash
    assert by_tus.password_hash.startswith("$argon2id$")
    assert by_tus.password_hash.rsplit("$", 2)[0] == by_panel.password_hash.rsplit("$", 2)[0]
    assert await verify_password(by_tus.password_hash, "hunter2")


async def test_empty_password_and_download_limit_mean_none(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    headers = {**TUS, **bearer(token), "Upload-Length": "0"}
    # tus sends a key with an empty value as the key alone.
    headers["Upload-Metadata"] = metadata(filename="a.txt") + ",password,max_downloads"
    created = await client.post("/api/v1/files/tus", headers=headers)
    assert created.status_code == 201, created.text
    file_id = created.headers["Location"].rsplit("/", 1)[-1]
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert (read["has_password"], read["max_downloads"]) == (False, None)


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


async def test_expiry_changed_during_an_upload_counts_from_completion(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    url = (await create_with(client, token, 10, expires_in="1w")).headers["Location"]
    file_id = url.rsplit("/", 1)[-1]
    async with services.sessions() as db:  # the upload began an hour ago
        item = await db.get(StoredFile, file_id)
        assert item is not None and item.expires_at is not None
        item.created_at -= timedelta(hours=1)
        item.expires_at -= timedelta(hours=1)
        await db.commit()
    changed = await client.patch(
        f"/api/v1/files/{file_id}", json={"expires_in": "10m"}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.text
    assert (await patch(client, token, url, 0, b"1234567890")).status_code == 204
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert when(read["expires_at"]) - when(read["completed_at"]) == timedelta(minutes=10)


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
    [problem] = refused.json()["errors"]
    assert problem["loc"] == ["body", "name"]
    assert problem["msg"] == "needs at least one character other than spaces, dots and slashes"
    read = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert (read["name"], read["folder"]) == ("keep.txt", "")  # nothing was half-applied


async def _file_in(client: httpx.AsyncClient, token: str, folder: str) -> str:
    """Upload a small file into `folder`; return its id."""
    file_id = await upload(client, token, folder.encode() or b"-", "f.txt")
    moved = await client.patch(
        f"/api/v1/files/{file_id}", json={"folder": folder}, headers=bearer(token)
    )
    assert moved.status_code == 200, moved.text
    return file_id


FOLDERS = ["", "work", "work/2024", "work/2024/q1", "workshop", "Work", "work 2", "a_b", "aXb/c"]


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("work", ["work", "work/2024", "work/2024/q1"]),  # not workshop, Work or "work 2"
        ("work/", ["work", "work/2024", "work/2024/q1"]),
        ("work/2024", ["work/2024", "work/2024/q1"]),
        ("Work", ["Work"]),  # case-sensitive on both backends
        ("a_b", ["a_b"]),  # no LIKE wildcards: `_` is just a character
        ("aXb", ["aXb/c"]),
        ("", [""]),  # files outside any folder
        ("nothing", []),
    ],
)
async def test_api_folder_filter_takes_subfolders(
    client: httpx.AsyncClient, asked: str, expected: list[str]
) -> None:
    token = await user_token(client)
    ids = {folder: await _file_in(client, token, folder) for folder in FOLDERS}
    listed = await client.get("/api/v1/files", params={"folder": asked}, headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert sorted(item["id"] for item in listed.json()) == sorted(ids[f] for f in expected)


async def test_api_folder_filter_refuses_an_overlong_folder(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    refused = await client.get("/api/v1/files", params={"folder": "x" * 256}, headers=bearer(token))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["query", "folder"]


def folder_choices(page: str) -> list[tuple[str, bool]]:
    """Return the folder filter's options on /files as (value, selected)."""
    select = page.split('id="folder-select"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([^"]*)"\s*(selected)?>', select)
    return [(value, bool(selected)) for value, selected in options]


async def test_folder_filter_on_the_files_page(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    loose = await upload(client, token, b"a", "loose.txt")
    nested = await _file_in(client, token, "a b/c&d")
    beside = await _file_in(client, token, "a bc")
    async with httpx.AsyncClient(base_url=str(client.base_url), headers=bearer(token)) as owner:
        everything = (await owner.get("/files")).text
        assert all(f'data-id="{i}"' in everything for i in (loose, nested, beside))
        # Every folder is a choice, parents included, in tree order; "all files" is chosen.
        assert folder_choices(everything) == [
            ("", False),
            ("a b", False),
            ("a b/c&amp;d", False),
            ("a bc", False),
        ]
        parent = (await owner.get("/files", params={"folder": "a b"})).text
        assert f'data-id="{nested}"' in parent
        assert f'data-id="{loose}"' not in parent and f'data-id="{beside}"' not in parent
        assert ("a b", True) in folder_choices(parent)
        assert 'value="a b"' in parent.split('id="upload-folder"')[1].split(">")[0]
        filtered = (await owner.get("/files", params={"folder": "a b/c&d"})).text
        assert f'data-id="{nested}"' in filtered and f'data-id="{loose}"' not in filtered
        assert 'value="a b/c&amp;d"' in filtered  # the next uploads go into this folder
        empty = (await owner.get("/files", params={"folder": "nothing here"})).text
        assert 'id="files-empty"' in empty and "nothing here/" in empty
        assert folder_choices(empty)[-1] == ("nothing here", True)
        dots = (await owner.get("/files", params={"folder": " / .. "})).text
        assert all(f'data-id="{i}"' in dots for i in (loose, nested, beside))  # all files


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
