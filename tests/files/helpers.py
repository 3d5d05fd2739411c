"""Small tus helpers shared by the files tests."""

from __future__ import annotations

import base64

import httpx

from tests.helpers import bearer

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


def metadata(**values: str) -> str:
    """Encode Upload-Metadata."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(
    client: httpx.AsyncClient, token: str, size: int, name: str = "data.bin"
) -> httpx.Response:
    """Create a tus upload; return the response (Location on success)."""
    headers = {**TUS, **bearer(token), "Upload-Length": str(size)}
    headers["Upload-Metadata"] = metadata(filename=name, filetype="application/x-whatever")
    return await client.post("/api/v1/files/tus", headers=headers)


async def patch(
    client: httpx.AsyncClient, token: str, url: str, offset: int, body: bytes, **extra: str
) -> httpx.Response:
    """Send one PATCH of `body` at `offset`."""
    headers = {**TUS, **OFFSET_TYPE, **bearer(token), "Upload-Offset": str(offset), **extra}
    return await client.patch(url, content=body, headers=headers)


async def upload(client: httpx.AsyncClient, token: str, data: bytes, name: str = "data.bin") -> str:
    """Upload `data` in one tus PATCH; return the file id."""
    created = await create(client, token, len(data), name)
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    if data:
        done = await patch(client, token, url, 0, data)
        assert done.status_code == 204, done.text
    return url.rsplit("/", 1)[-1]
