"""A real tus client (tuspy) uploads in chunks and resumes, on both backends."""

from __future__ import annotations

import asyncio
import io
import random

import httpx
from tusclient import client as tus_client

from tests.helpers import bearer, user_token

DATA = random.Random(11).randbytes(3 * 1024 * 1024 + 17)
CHUNK = 1024 * 1024


def _upload(live_server: str, token: str, stop_after: int | None) -> str:
    tus = tus_client.TusClient(f"{live_server}/api/v1/files/tus", headers=bearer(token))
    uploader = tus.uploader(
        file_stream=io.BytesIO(DATA),
        chunk_size=CHUNK,
        metadata={"filename": "from-tuspy.bin", "filetype": "application/octet-stream"},
        store_url=False,
    )
    if stop_after is None:
        uploader.upload()
    else:
        uploader.upload(stop_at=stop_after)
    return str(uploader.url)


def _resume(live_server: str, token: str, url: str) -> int:
    tus = tus_client.TusClient(f"{live_server}/api/v1/files/tus", headers=bearer(token))
    uploader = tus.uploader(file_stream=io.BytesIO(DATA), chunk_size=CHUNK, url=url)
    start = int(uploader.offset)
    uploader.upload()
    return start


async def test_tuspy_upload_and_resume(client: httpx.AsyncClient, live_server: str) -> None:
    token = await user_token(client)
    whole = await asyncio.to_thread(_upload, live_server, token, None)
    assert (await client.get(f"/f/{whole.rsplit('/', 1)[-1]}/raw")).content == DATA
    # Stop after two chunks, then a fresh client resumes from the server's offset.
    partial = await asyncio.to_thread(_upload, live_server, token, 2 * CHUNK)
    resumed_from = await asyncio.to_thread(_resume, live_server, token, partial)
    assert resumed_from == 2 * CHUNK
    file_id = partial.rsplit("/", 1)[-1]
    assert (await client.get(f"/f/{file_id}/raw")).content == DATA
    listed = (await client.get("/api/v1/files", headers=bearer(token))).json()
    assert sorted(f["name"] for f in listed) == ["from-tuspy.bin", "from-tuspy.bin"]
