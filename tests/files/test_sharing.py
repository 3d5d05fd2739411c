"""S3 signed-URL downloads, the ShareX uploader and the /f/{id} previews, on both backends."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from meatlizard.runtime import Services
from tests.files.helpers import PDF, png_2x2, upload, wav_one_second
from tests.fixtures.backends import Backend
from tests.helpers import PASSWORD, bearer, login, register, user_token

REDIRECT = {"files_s3_redirect": True, "files_redirect_seconds": 120}


@pytest.mark.parametrize("settings_overrides", [REDIRECT])
async def test_s3_redirect_serves_a_working_signed_url(
    client: httpx.AsyncClient, services: Services, backend: Backend
) -> None:
    token = await user_token(client)
    data = b"signed bytes " * 1000
    file_id = await upload(client, token, data, "Résumé report.txt")
    raw = await client.get(f"/f/{file_id}/raw")
    if backend.name == "embedded":  # local storage has nothing to sign: served directly
        assert raw.status_code == 200 and raw.content == data
        return
    assert raw.status_code == 302, raw.text
    assert raw.headers["cache-control"] == "no-store"
    signed = raw.headers["location"]
    assert signed.startswith(services.settings.s3_endpoint_url or "")
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    async with httpx.AsyncClient(timeout=30) as s3:
        got = await s3.get(signed)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"].startswith("text/plain")
        assert got.headers["content-disposition"] == (
            "inline; filename=\"Resume report.txt\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20report.txt"
        )
        part = await s3.get(signed, headers={"Range": "bytes=7-11"})
        assert part.status_code == 206 and part.content == data[7:12]
        tampered = await s3.get(signed.replace("X-Amz-Expires=120", "X-Amz-Expires=9999"))
        assert tampered.status_code == 403
    download = await client.get(f"/f/{file_id}/raw?download=1")
    async with httpx.AsyncClient(timeout=30) as s3:
        saved = await s3.get(download.headers["location"])
    assert saved.headers["content-disposition"].startswith('attachment; filename="Resume')

    # Passwords are checked before any URL is signed.
    protect = await client.patch(
        f"/api/v1/files/{file_id}", json={"password": "open sesame"}, headers=bearer(token)
    )
    assert protect.status_code == 200
    client.cookies.clear()
    refused = await client.get(f"/f/{file_id}/raw")
    assert refused.status_code == 403 and "location" not in refused.headers
    allowed = await client.get(f"/f/{file_id}/raw", headers={"X-File-Password": "open sesame"})
    assert allowed.status_code == 302


async def test_sharex_config_is_a_working_uploader(client: httpx.AsyncClient) -> None:
    name = await register(client)
    await login(client, name)  # a browser session: cookie, CSRF token from a page
    await client.get("/files")
    csrf = client.cookies["ml_csrf"]
    refused = await client.post("/files/sharex.sxcu")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert (await client.get("/files/sharex.sxcu")).status_code == 405  # never by a link
    answer = await client.post("/files/sharex.sxcu", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="meatlizard.sxcu"'
    assert answer.headers["cache-control"] == "no-store"
    config: dict[str, Any] = json.loads(answer.content)
    assert config["Version"] == "15.0.0" and config["RequestMethod"] == "POST"
    assert set(config["DestinationType"].split(", ")) == {
        "ImageUploader",
        "TextUploader",
        "FileUploader",
    }
    assert config["RequestURL"] == f"{client.base_url}/api/v1/files"
    assert config["Body"] == "MultipartFormData" and config["FileFormName"] == "file"
    assert (config["URL"], config["ErrorMessage"]) == ("{json:url}", "{json:detail}")
    auth = config["Headers"]["Authorization"]
    assert re.fullmatch(r"Bearer mlt_[A-Za-z0-9_-]{43}", auth)

    # What ShareX does with it: a multipart POST, then the URL read from the JSON answer.
    client.cookies.clear()
    async with httpx.AsyncClient(headers={"User-Agent": "ShareX/15.0.0"}, timeout=30) as sharex:
        sent = await sharex.request(
            config["RequestMethod"],
            config["RequestURL"],
            headers=config["Headers"],
            files={config["FileFormName"]: ("shot.png", png_2x2(), "image/png")},
        )
        assert sent.status_code == 201, sent.text
        url = sent.json()[config["URL"][len("{json:") : -1]]
        assert re.fullmatch(rf"{client.base_url}/f/[A-Za-z0-9_-]+", url)
        shown = await sharex.get(url)
        assert shown.status_code == 200 and 'alt="shot.png"' in shown.text

    # The token is an ordinary API token named ShareX: listed, and revoking it ends uploads.
    session = await login(client, name, PASSWORD)
    tokens = (await client.get("/api/v1/auth/tokens", headers=bearer(session))).json()
    sharex_tokens = [t for t in tokens if t["name"] == "ShareX"]
    assert len(sharex_tokens) == 1
    revoked = await client.delete(
        f"/api/v1/auth/tokens/{sharex_tokens[0]['id']}", headers=bearer(session)
    )
    assert revoked.status_code == 204
    client.cookies.clear()
    late = await client.post(
        config["RequestURL"], headers=config["Headers"], files={"file": ("a.txt", b"hi")}
    )
    assert late.status_code == 401


@pytest.mark.parametrize(
    ("name", "data", "element"),
    [
        ("red.png", png_2x2(), "img"),
        ("quiet.wav", wav_one_second(), "audio"),
        ("doc.pdf", PDF, "iframe"),
    ],
)
async def test_file_page_previews_by_type(
    client: httpx.AsyncClient, name: str, data: bytes, element: str
) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, data, name)
    page = (await client.get(f"/f/{file_id}")).text
    previews = re.findall(r'<div class="preview">\s*<(\w+)[^>]*\ssrc="([^"]+)"', page)
    assert previews == [(element, f"/f/{file_id}/raw")]
    served = await client.get(f"/f/{file_id}/raw")
    assert served.content == data
    assert served.headers["content-disposition"].startswith("inline;")

    protect = await client.patch(
        f"/api/v1/files/{file_id}", json={"password": "pw for preview"}, headers=bearer(token)
    )
    assert protect.status_code == 200
    client.cookies.clear()
    assert (await client.get(f"/f/{file_id}")).status_code == 200  # the form and its token
    form = {"password": "pw for preview", "csrf_token": client.cookies["ml_csrf"]}
    unlocked = await client.post(f"/f/{file_id}", data=form)
    assert unlocked.status_code == 200, unlocked.text[:3000]
    src = re.findall(rf'<{element}[^>]*\ssrc="([^"]+)"', unlocked.text)
    assert len(src) == 1 and src[0].startswith(f"/f/{file_id}/raw?key=")
    assert (await client.get(src[0])).content == data
    assert (await client.get(f"/f/{file_id}/raw")).status_code == 403
