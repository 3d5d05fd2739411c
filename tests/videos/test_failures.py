"""Corrupt inputs fail with ffmpeg's reason and can be retried; failures leave no objects."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from meatlizard.core.db import utcnow
from meatlizard.core.storage import ObjectStorage, StorageError
from meatlizard.runtime import Services
from meatlizard.videos.jobs import VideoJobs
from meatlizard.videos.models import Video
from meatlizard.videos.queue import STALE_SECONDS
from tests.helpers import bearer, user_token
from tests.videos.helpers import keys_under, make_video, video_info

GARBAGE = random.Random(6).randbytes(50_000)


async def test_corrupt_input_fails_with_reason_and_retries(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, GARBAGE))["id"]
    await services.jobs.drain()
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed"
    assert "ffprobe" in info["error"] and "Invalid data found" in info["error"]
    assert info["attempts"] == 1
    assert await keys_under(services, f"videos/{video_id}/") == []
    page = await client.get(f"/v/{video_id}", headers=bearer(token))
    assert "Invalid data found" in page.text and 'id="retry"' in page.text

    again = await client.post(f"/api/v1/videos/{video_id}/retry", headers=bearer(token))
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "queued" and again.json()["error"] is None
    await services.jobs.drain()
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed" and "Invalid data found" in info["error"]

    other = await user_token(client)
    hidden = await client.post(f"/api/v1/videos/{video_id}/retry", headers=bearer(other))
    assert hidden.status_code == 404


class FailingStorage:
    """Real storage that refuses the third rendition upload, as a full disk or outage would."""

    def __init__(self, inner: ObjectStorage) -> None:
        self._inner = inner
        self.puts = 0

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], **kw: Any) -> int:
        if key.startswith("videos/"):
            self.puts += 1
            if self.puts == 3:
                raise StorageError("the storage backend refused the write")
        return await self._inner.put_stream(key, chunks, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.mark.parametrize("settings_overrides", [{"video_transcode_in_web": False}])
async def test_upload_failure_midway_leaves_no_objects(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, sample_720p))["id"]
    assert (await video_info(client, token, video_id))["status"] == "queued"
    failing = FailingStorage(services.storage)
    jobs = VideoJobs(services.sessions, failing, services.settings)  # type: ignore[arg-type]
    assert await jobs.drain() == 1
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed" and "refused the write" in info["error"]
    assert failing.puts == 3
    assert await keys_under(services, f"videos/{video_id}/") == []


@pytest.mark.parametrize(
    "settings_overrides", [{"video_transcode_in_web": False, "video_max_attempts": 2}]
)
async def test_crashed_claims_are_retried_then_reported(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, GARBAGE))["id"]
    long_ago = utcnow() - timedelta(seconds=STALE_SECONDS * 2)
    async with services.sessions() as db:  # a process claimed it, then died (no heartbeat)
        await db.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(status="processing", claimed_by="dead", heartbeat_at=long_ago, attempts=1)
        )
        await db.commit()
    jobs = VideoJobs(services.sessions, services.storage, services.settings)
    assert await jobs.drain() == 1  # reclaimed and run again (attempt 2)
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed" and info["attempts"] == 2

    async with services.sessions() as db:  # the second attempt died too: give up, loudly
        await db.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(status="processing", claimed_by="dead", heartbeat_at=long_ago, attempts=2)
        )
        await db.commit()
    assert await jobs.drain() == 0
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed"
    assert "stopped without finishing 2 times" in info["error"]


@pytest.mark.parametrize("settings_overrides", [{"video_transcode_in_web": False}])
async def test_claim_is_exclusive(client: httpx.AsyncClient, services: Services) -> None:
    from meatlizard.videos.queue import claim_next

    token = await user_token(client)
    await make_video(client, token, GARBAGE)
    async with services.sessions() as one, services.sessions() as two:
        first = await claim_next(one, worker_id="a", max_attempts=3)
        second = await claim_next(two, worker_id="b", max_attempts=3)
    assert first is not None and first.claimed_by == "a"
    assert second is None


async def test_create_refuses_bad_sources(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    missing = await client.post("/api/v1/videos", json={"file_id": "nope"}, headers=bearer(token))
    assert missing.status_code == 404 and "no such file" in missing.json()["detail"]
    created = await client.post(
        "/api/v1/files/tus",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10", **bearer(token)},
    )
    unfinished = created.headers["Location"].rsplit("/", 1)[-1]
    answer = await client.post(
        "/api/v1/videos", json={"file_id": unfinished}, headers=bearer(token)
    )
    assert answer.status_code == 409 and "not finished" in answer.json()["detail"]
    client.cookies.clear()  # login left a session cookie
    anonymous = await client.post("/api/v1/videos", json={"file_id": unfinished})
    assert anonymous.status_code == 401


@pytest.mark.parametrize("settings_overrides", [{"video_transcode_in_web": False}])
async def test_two_workers_never_transcode_the_same_video(
    client: httpx.AsyncClient, services: Services
) -> None:
    import asyncio

    token = await user_token(client)
    ids = [(await make_video(client, token, GARBAGE))["id"] for _ in range(3)]
    one = VideoJobs(services.sessions, services.storage, services.settings)
    two = VideoJobs(services.sessions, services.storage, services.settings)
    handled = await asyncio.gather(one.drain(), two.drain())
    assert sum(handled) == 3
    for video_id in ids:
        info = await video_info(client, token, video_id)
        assert (info["status"], info["attempts"]) == ("failed", 1)
