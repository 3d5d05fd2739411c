"""Transcode jobs: claim a video, fetch its source, run ffmpeg in a temp dir, upload, record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.errors import TooLarge
from meatlizard.core.settings import Settings
from meatlizard.core.storage import ObjectNotFound, ObjectStorage
from meatlizard.files.models import StoredFile
from meatlizard.files.policy import FilePolicy
from meatlizard.videos import queue
from meatlizard.videos.models import Video
from meatlizard.videos.playlists import master_playlist, renditions
from meatlizard.videos.service import prefix_of, purge_renditions
from meatlizard.videos.transcode import (
    Probe,
    Rung,
    TranscodeError,
    estimate_bytes,
    tools_missing,
    transcode,
)

log = logging.getLogger(__name__)
POLL_SECONDS = 15.0  # how often an idle process looks for queued or abandoned videos
HEARTBEAT_SECONDS = 15.0
PROGRESS_WRITE_SECONDS = 1.0  # at most one progress write per video per second
FILE_CHUNK = 1024 * 1024
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}
SOURCE_GONE = "the uploaded file this video was made from was deleted; upload it again"


class ClaimLost(Exception):
    """The video was deleted (or taken over) while this process was transcoding it."""


def content_type_of(name: str) -> str:
    """Return the content type of a transcode output by its extension."""
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


async def _read_file(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, FILE_CHUNK):
            yield chunk


class VideoJobs:
    """Transcodes queued videos, one at a time in this process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: ObjectStorage,
        settings: Settings,
        *,
        progress_write_seconds: float = PROGRESS_WRITE_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        self._settings = settings
        self._file_policy = FilePolicy.from_settings(settings)
        self._progress_every = progress_write_seconds
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def drain(self) -> int:
        """Transcode queued videos until none is left; return how many were handled."""
        if tools_missing():
            log.error("cannot transcode videos: %s", tools_missing())
            return 0
        handled = 0
        async with self._lock:
            while await self.run_one():
                handled += 1
        return handled

    async def run_one(self) -> bool:
        """Claim and transcode one video; return False when the queue is empty."""
        async with self._sessions() as db:
            video = await queue.claim_next(
                db, worker_id=self.worker_id, max_attempts=self._settings.video_max_attempts
            )
            if video is None:
                return False
            video_id, file_id = video.id, video.file_id
            source = await db.get(StoredFile, file_id) if file_id else None
            source_key = source.storage_key if source is not None else None
        await self._process(video_id, source_key)
        return True

    async def _process(self, video_id: str, source_key: str | None) -> None:
        log.info("transcoding video %s", video_id)
        beating = asyncio.create_task(self._heartbeat(video_id))
        try:
            if source_key is None:
                raise TranscodeError(SOURCE_GONE)
            with tempfile.TemporaryDirectory(prefix="ml-video-") as tmp:
                await self._transcode_and_store(video_id, source_key, Path(tmp))
        except ClaimLost:
            async with self._sessions() as db:
                deleted = await db.get(Video, video_id) is None
            if deleted:  # a claim taken over by another process keeps its objects
                await purge_renditions(self._storage, video_id)
            log.info("video %s: stopped, it was deleted or claimed elsewhere", video_id)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await purge_renditions(self._storage, video_id)
                async with self._sessions() as db:
                    await queue.release(db, video_id=video_id, worker_id=self.worker_id)
            raise
        except Exception as exc:
            if not isinstance(exc, TranscodeError):
                log.exception("transcoding video %s failed", video_id)
            reason = str(exc) if isinstance(exc, TranscodeError) else f"internal error: {exc!r}"
            await purge_renditions(self._storage, video_id)
            async with self._sessions() as db:
                await queue.fail(db, video_id=video_id, worker_id=self.worker_id, reason=reason)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def _transcode_and_store(self, video_id: str, source_key: str, tmp: Path) -> None:
        source, out = tmp / "source", tmp / "out"
        (out / "hls").mkdir(parents=True)
        await purge_renditions(self._storage, video_id)  # leftovers of a crashed attempt
        try:
            with source.open("wb") as handle:
                async for chunk in await self._storage.open_stream(source_key):
                    await asyncio.to_thread(handle.write, chunk)
        except ObjectNotFound:
            raise TranscodeError(SOURCE_GONE) from None
        last_write = 0.0

        async def on_progress(fraction: float) -> None:
            nonlocal last_write
            if fraction < 1.0 and time.monotonic() - last_write < self._progress_every:
                return
            last_write = time.monotonic()
            async with self._sessions() as db:
                mine = await queue.beat(
                    db, video_id=video_id, worker_id=self.worker_id, progress=fraction
                )
            if not mine:  # stops ffmpeg: nobody wants this output any more
                raise ClaimLost

        done = await transcode(
            source,
            out,
            preset=self._settings.video_x264_preset,
            on_progress=on_progress,
            before_encoding=lambda info, rungs: self._reserve(video_id, info, rungs),
        )
        found = renditions(out / "hls", done.rungs, done.probe.has_audio)
        (out / "hls" / "master.m3u8").write_text(master_playlist(found))
        stored = await self._upload(video_id, out)
        values = {
            "storage_bytes": stored,
            "renditions": found,
            "duration_seconds": round(done.probe.duration, 3),
            "width": done.probe.width,
            "height": done.probe.height,
            "has_audio": done.probe.has_audio,
            "thumbnails": True,
            "share_mp4": True,
        }
        async with self._sessions() as db:
            kept = await queue.finish(
                db, video_id=video_id, worker_id=self.worker_id, values=values
            )
        if not kept:  # deleted while we worked: leave nothing behind
            await purge_renditions(self._storage, video_id)
        log.info("video %s ready (%s)", video_id, ", ".join(r["name"] for r in found))

    async def _reserve(self, video_id: str, info: Probe, rungs: list[Rung]) -> None:
        """Reserve the renditions' estimated size in the owner's quota before encoding."""
        policy = self._file_policy
        async with self._sessions() as db:
            try:
                mine = await queue.reserve(
                    db,
                    video_id=video_id,
                    worker_id=self.worker_id,
                    size=estimate_bytes(info, rungs),
                    policy=policy,
                )
            except TooLarge as exc:
                raise TranscodeError(str(exc)) from None
        if not mine:
            raise ClaimLost

    async def _upload(self, video_id: str, out: Path) -> int:
        """Store every output file; return their total size (what the quota then counts)."""
        paths = await asyncio.to_thread(lambda: sorted(p for p in out.rglob("*") if p.is_file()))
        total = 0
        for path in paths:
            key = prefix_of(video_id) + path.relative_to(out).as_posix()
            total += await self._storage.put_stream(
                key, _read_file(path), content_type=content_type_of(path.name)
            )
        return total

    async def _heartbeat(self, video_id: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                async with self._sessions() as db:
                    await queue.beat(db, video_id=video_id, worker_id=self.worker_id, progress=None)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Drain the queue, then look again every POLL_SECONDS, until `stop` is set.

        Setting `stop` interrupts a transcode at once (ffmpeg is killed) and puts its video
        back in the queue, so SIGTERM never waits for a long encode to end.
        """
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                round_ = asyncio.create_task(self.drain())
                try:
                    await asyncio.wait({round_, stopping}, return_when=asyncio.FIRST_COMPLETED)
                finally:  # stop set, or this loop itself cancelled: end the round too
                    if not round_.done():
                        round_.cancel()
                try:
                    await round_
                except asyncio.CancelledError:
                    if not stop.is_set():
                        raise  # cancelled from outside, not by `stop`
                except Exception:  # a broken round must not end the loop; the next retries
                    log.exception("video queue round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopping), POLL_SECONDS)
        finally:
            stopping.cancel()

    def start(self) -> None:
        """Poll the queue in the background of this (web) process."""
        if self._task is None:
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self.run_forever(self._stop), name="video-jobs")

    async def stop(self) -> None:
        """Stop polling; a transcode in progress is put back in the queue."""
        if self._task is not None:
            self._stop.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
