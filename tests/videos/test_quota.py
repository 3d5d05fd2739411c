"""Renditions count against the owner's quota; deleted videos and sources leave nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from meatlizard.core.storage import ObjectStorage
from meatlizard.runtime import Services
from meatlizard.videos import service
from meatlizard.videos.models import Video
from meatlizard.videos.transcode import Probe, estimate_bytes, ladder
from tests.helpers import bearer, user_token
from tests.videos.helpers import keys_under, make_video, video_info

QUEUE_ONLY = {"video_transcode_in_web": False}


async def _used(client: httpx.AsyncClient, token: str) -> int:
    quota = await client.get("/api/v1/files/quota", headers=bearer(token))
    assert quota.status_code == 200, quota.text
    used: int = quota.json()["used_bytes"]
    return used


async def _stored_renditions(services: Services, video_id: str) -> int:
    return sum(info.size for info in await services.storage.list(f"videos/{video_id}/"))


async def _storage_bytes(services: Services, video_id: str) -> int | None:
    async with services.sessions() as db:
        found = await db.scalar(select(Video.storage_bytes).where(Video.id == video_id))
    return found


def test_estimate_covers_every_rung_at_its_peak_rate() -> None:
    info = Probe(duration=10.0, width=1280, height=720, has_audio=True)
    rungs = ladder(1280, 720)
    # 360p at 1200 kbit/s + 720p at 4200 kbit/s peak + 128 kbit/s audio, then share.mp4
    # (360p and audio again), 10 s, plus 4 MiB.
    kbps = 1200 + 4200 + 128 + 1200 + 128
    assert estimate_bytes(info, rungs) == kbps * 1000 * 10 // 8 + 4 * 1024**2


@pytest.mark.parametrize("settings_overrides", [QUEUE_ONLY])
async def test_renditions_are_counted_then_freed(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, sample_720p))["id"]
    assert await _used(client, token) == len(sample_720p)  # queued: nothing reserved yet
    assert await services.videos.drain() == 1
    assert (await video_info(client, token, video_id))["status"] == "ready"
    stored = await _stored_renditions(services, video_id)
    assert stored > 0 and await _storage_bytes(services, video_id) == stored  # settled
    assert await _used(client, token) == len(sample_720p) + stored
    deleted = await client.delete(f"/api/v1/videos/{video_id}", headers=bearer(token))
    assert deleted.status_code == 204
    assert await _used(client, token) == len(sample_720p)


@pytest.mark.parametrize("settings_overrides", [QUEUE_ONLY])
async def test_transcode_that_would_pass_the_quota_fails_clearly(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes
) -> None:
    admin = await user_token(client)  # the first account is an admin
    token = await user_token(client)
    me = (await client.get("/api/v1/files/quota", headers=bearer(token))).json()
    room = len(sample_720p) + 1024 * 1024  # the clip fits, its renditions do not
    answer = await client.put(
        f"/api/v1/files/quotas/{me['user_id']}", json={"quota_bytes": room}, headers=bearer(admin)
    )
    assert answer.status_code == 200, answer.text
    video_id = (await make_video(client, token, sample_720p))["id"]
    assert await services.videos.drain() == 1
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed"
    assert info["error"].startswith("storage quota exceeded: the renditions of this video need")
    assert "1.0 MiB) of your quota" in info["error"]
    assert await keys_under(services, f"videos/{video_id}/") == []
    assert await _storage_bytes(services, video_id) == 0
    assert await _used(client, token) == len(sample_720p)

    more = await client.put(
        f"/api/v1/files/quotas/{me['user_id']}", json={"quota_bytes": None}, headers=bearer(admin)
    )
    assert more.status_code == 200
    retried = await client.post(f"/api/v1/videos/{video_id}/retry", headers=bearer(token))
    assert retried.status_code == 202
    assert await services.videos.drain() == 1
    assert (await video_info(client, token, video_id))["status"] == "ready"


class DeletingStorage:
    """Real storage that deletes the video (as its owner would) at one point of the transcode."""

    def __init__(self, services: Services, when: str) -> None:
        self._services = services
        self._inner: ObjectStorage = services.storage
        self._when = when
        self.video_id = ""
        self.fired = False
        self.puts = 0

    async def _delete_video(self) -> None:
        if self.fired:
            return
        self.fired = True
        async with self._services.sessions() as db:
            video = await db.get(Video, self.video_id)
            assert video is not None
            await service.delete_video(db, self._inner, video=video)

    async def open_stream(self, key: str, **kw: Any) -> AsyncIterator[bytes]:
        if self._when == "source" and key.startswith("files/"):
            await self._delete_video()
        return await self._inner.open_stream(key, **kw)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], **kw: Any) -> int:
        size = await self._inner.put_stream(key, chunks, **kw)
        self.puts += key.startswith("videos/")
        if self._when == "renditions" and key.startswith("videos/"):
            await self._delete_video()
        return size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.mark.parametrize("settings_overrides", [QUEUE_ONLY])
@pytest.mark.parametrize("when", ["source", "renditions"])
async def test_video_deleted_while_transcoding_leaves_no_objects(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes, when: str
) -> None:
    from meatlizard.videos.jobs import VideoJobs

    token = await user_token(client)
    video_id = (await make_video(client, token, sample_720p))["id"]
    deleting = DeletingStorage(services, when)
    deleting.video_id = video_id
    jobs = VideoJobs(services.sessions, deleting, services.settings)  # type: ignore[arg-type]
    assert await jobs.drain() == 1
    assert deleting.fired
    if when == "source":  # noticed before encoding: nothing was encoded or stored
        assert deleting.puts == 0
    assert await keys_under(services, f"videos/{video_id}/") == []
    gone = await client.get(f"/api/v1/videos/{video_id}", headers=bearer(token))
    assert gone.status_code == 404
    assert await _used(client, token) == len(sample_720p)


@pytest.mark.parametrize("settings_overrides", [QUEUE_ONLY])
async def test_source_deleted_before_transcoding_fails_clearly(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes
) -> None:
    token = await user_token(client)
    made = await make_video(client, token, sample_720p)
    async with services.sessions() as db:
        file_id = await db.scalar(select(Video.file_id).where(Video.id == made["id"]))
    removed = await client.delete(f"/api/v1/files/{file_id}", headers=bearer(token))
    assert removed.status_code == 204
    assert await services.videos.drain() == 1
    info = await video_info(client, token, made["id"])
    assert info["status"] == "failed"
    assert info["error"] == (
        "the uploaded file this video was made from was deleted; upload it again"
    )
    assert await keys_under(services, f"videos/{made['id']}/") == []
    assert await _used(client, token) == 0
