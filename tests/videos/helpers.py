"""Helpers shared by the video tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
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


def make_sample(path: Path, size: str, seconds: int, *, audio: bool = True) -> bytes:
    """Encode testsrc2 (+ a sine tone) to an H.264/AAC MP4 and return its bytes."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=15:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(args, check=True)
    return path.read_bytes()
