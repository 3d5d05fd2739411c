"""Helpers shared by the video tests."""

from __future__ import annotations

from typing import Any

import httpx

from meatlizard.runtime import Services
from tests.files.helpers import upload
from tests.helpers import bearer


async def keys_under(services: Services, prefix: str) -> list[str]:
    """Every stored object key under `prefix`."""
    return [info.key for info in await services.storage.list(prefix)]


async def make_video(
    client: httpx.AsyncClient, token: str, data: bytes, **body: Any
) -> dict[str, Any]:
    """Upload `data` with tus, make a video of it, return the 202 answer."""
    file_id = await upload(client, token, data, "clip.mp4")
    answer = await client.post(
        "/api/v1/videos", json={"file_id": file_id, **body}, headers=bearer(token)
    )
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def video_info(client: httpx.AsyncClient, token: str, video_id: str) -> dict[str, Any]:
    """Return GET /api/v1/videos/{id}."""
    answer = await client.get(f"/api/v1/videos/{video_id}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result
