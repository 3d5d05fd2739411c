"""Downloads: ranges, validators, sniffed types, safe names, options and quotas, both backends."""

from __future__ import annotations

import httpx
import pytest

from meatlizard.files.models import StoredFile
from meatlizard.runtime import Services
from tests.files.helpers import TUS, create, stored_keys, upload
from tests.helpers import bearer, user_token

DATA = bytes(range(256)) * 40  # 10 240 bytes
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


async def test_ranges(client: httpx.AsyncClient) -> None:
    file_id = await upload(client, await user_token(client), DATA)
    url = f"/f/{file_id}/raw"
    whole = await client.get(url)
    assert whole.headers["Accept-Ranges"] == "bytes"
    single = await client.get(url, headers={"Range": "bytes=100-199"})
    assert single.status_code == 206
    assert single.content == DATA[100:200]
    assert single.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    open_end = await client.get(url, headers={"Range": "bytes=10000-"})
    assert open_end.content == DATA[10000:]
    suffix = await client.get(url, headers={"Range": "bytes=-500"})
    assert suffix.status_code == 206
    assert suffix.content == DATA[-500:]
    past_end = await client.get(url, headers={"Range": "bytes=10200-99999"})
    assert past_end.content == DATA[10200:]
    unsatisfiable = await client.get(url, headers={"Range": "bytes=20000-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{len(DATA)}"
    several = await client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200  # several ranges are answered with the whole file
    etag = whole.headers["ETag"]
    same = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206
    changed = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert changed.status_code == 200
    assert len(changed.content) == len(DATA)
    cached = await client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    since = await client.get(url, headers={"If-Modified-Since": whole.headers["Last-Modified"]})
    assert since.status_code == 304
    head = await client.head(url)
    assert head.headers["Content-Length"] == str(len(DATA))
    assert head.content == b""


@pytest.mark.parametrize(
    ("content", "name", "expected", "inline"),
    [
        (PNG, "photo.txt", "image/png", True),  # the bytes win over the name
        (b"<!DOCTYPE html><script>alert(1)</script>", "nice.png", "text/html", False),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
            "a.svg",
            "image/svg+xml",
            False,
        ),
        (b"plain words\n", "notes.html", "text/plain", False),  # a risky name stays risky
        (b"%PDF-1.4\n%\xe2\xe3", "doc", "application/pdf", True),
        (b"\x00\x01\x02binary", "x.exe", "application/octet-stream", False),
    ],
)
async def test_type_from_content(
    client: httpx.AsyncClient, content: bytes, name: str, expected: str, inline: bool
) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, content, name)
    meta = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert meta["content_type"] == expected
    raw = await client.get(f"/f/{file_id}/raw")
    assert raw.headers["content-type"].split(";")[0] == expected
    assert raw.headers["X-Content-Type-Options"] == "nosniff"
    assert raw.headers["Content-Disposition"].startswith("inline" if inline else "attachment")
    if expected in ("text/html", "image/svg+xml") or name.endswith(".html"):
        assert raw.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


async def test_hostile_names(client: httpx.AsyncClient, services: Services) -> None:
    token = await user_token(client)
    traversal = await upload(client, token, b"x", "../../../etc/passwd")
    injection = await upload(client, token, b"y", 'evil"\r\nSet-Cookie: a=b;.txt')
    unicode = await upload(client, token, b"z", "résumé 📄.txt")
    names = {
        f["id"]: f["name"]
        for f in (await client.get("/api/v1/files", headers=bearer(token))).json()
    }
    assert names[traversal] == "passwd"
    assert (
        "\r" not in names[injection]
        and "\n" not in names[injection]
        and '"' not in names[injection]
    )
    raw = await client.get(f"/f/{injection}/raw")
    assert "set-cookie" not in raw.headers
    assert raw.headers["Content-Disposition"].count('"') == 2
    disposition = (await client.get(f"/f/{unicode}/raw")).headers["Content-Disposition"]
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%F0%9F%93%84.txt" in disposition
    assert disposition.isascii()
    keys = await stored_keys(services)
    assert all("passwd" not in key and ".." not in key for key in keys)
    renamed = await client.patch(
        f"/api/v1/files/{traversal}",
        json={"name": "..\\..\\boot.ini", "folder": "../a/./b"},
        headers=bearer(token),
    )
    assert renamed.json()["name"] == "boot.ini"
    assert renamed.json()["folder"] == "a/b"


async def test_options_password_limit_visibility(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, b"secret stuff")
    url = f"/f/{file_id}/raw"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        changed = await client.patch(
            f"/api/v1/files/{file_id}",
            json={"password": "hunter2", "max_downloads": 1},
            headers=bearer(token),
        )
        assert changed.json()["has_password"] is True
        assert (await stranger.get(url)).status_code == 403
        assert (await stranger.get(url, headers={"X-File-Password": "nope"})).status_code == 403
        good = await stranger.get(url, headers={"X-File-Password": "hunter2"})
        assert good.content == b"secret stuff"
        used_up = await stranger.get(url, headers={"X-File-Password": "hunter2"})
        assert used_up.status_code == 410
        await client.patch(
            f"/api/v1/files/{file_id}",
            json={"password": "", "max_downloads": None, "visibility": "private"},
            headers=bearer(token),
        )
        assert (await stranger.get(url)).status_code == 404
        assert (await client.get(url, headers=bearer(token))).status_code == 200
        await client.patch(
            f"/api/v1/files/{file_id}",
            json={"visibility": "unlisted", "expires_in": "never"},
            headers=bearer(token),
        )
        assert (await stranger.get(url)).status_code == 200


async def test_quota_before_and_during(client: httpx.AsyncClient, services: Services) -> None:
    admin = await user_token(client)  # the first account is the admin
    token = await user_token(client)
    me = (await client.get("/api/v1/files/quota", headers=bearer(token))).json()
    set_quota = await client.put(
        f"/api/v1/files/quotas/{me['user_id']}", json={"quota_bytes": 1000}, headers=bearer(admin)
    )
    assert set_quota.status_code == 200, set_quota.text
    refused = await create(client, token, 1001)
    assert refused.status_code == 413
    assert "quota is 1000 bytes" in refused.json()["detail"]
    assert refused.headers["Tus-Resumable"] == "1.0.0"
    not_admin = await client.put(
        f"/api/v1/files/quotas/{me['user_id']}", json={"quota_bytes": 10**9}, headers=bearer(token)
    )
    assert not_admin.status_code == 403

    # A chunked PUT announces no length: it is stopped once it passes the quota.
    async def body():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"z" * 100

    during = await client.put("/api/v1/files/big.bin", content=body(), headers=bearer(token))
    assert during.status_code == 413
    assert "quota" in during.json()["detail"]
    assert await stored_keys(services) == []
    assert (await client.get("/api/v1/files", headers=bearer(token))).json() == []
    ok = await client.put("/api/v1/files/small.txt", content=b"fits", headers=bearer(token))
    assert ok.status_code == 201
    head = await client.head("/api/v1/files/tus/nope", headers={**TUS, **bearer(token)})
    assert head.status_code == 404


async def test_curl_put_and_form(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    put = await client.put(
        "/api/v1/files/hello.txt",
        content=b"hi there\n",
        headers={**bearer(token), "User-Agent": "curl/8.5.0"},
    )
    assert put.status_code == 201
    assert "/f/" in put.text
    assert (await client.get(put.text.strip() + "/raw")).text == "hi there\n"
    form = await client.post(
        "/api/v1/files", files={"file": ("shot.png", PNG, "image/png")}, headers=bearer(token)
    )
    assert form.status_code == 201
    assert form.json()["content_type"] == "image/png"
    assert form.json()["name"] == "shot.png"


async def test_bidi_controls_are_dropped_from_file_names(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    name = "invoice\u202egnp.exe"  # shows as "invoiceexe.png" where it is rendered
    file_id = await upload(client, token, b"MZ", name)
    stored = (await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))).json()
    assert stored["name"] == "invoicegnp.exe"
    renamed = await client.patch(
        f"/api/v1/files/{file_id}",
        json={"name": "a\u2066b\u200fc\u061c.txt"},
        headers=bearer(token),
    )
    assert renamed.json()["name"] == "abc.txt"


async def test_a_file_deleted_while_fetched_answers_gone(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, DATA)
    async with services.sessions() as db:
        item = await db.get(StoredFile, file_id)
        assert item is not None
        key = item.storage_key
    await services.storage.delete(key)  # its row is read next, its object is already gone
    response = await client.get(f"/f/{file_id}/raw")
    assert response.status_code == 410
    assert response.json()["detail"] == "this file was deleted"
