"""`meatlizard worker` as a real process: SIGTERM mid-transcode stops ffmpeg and requeues."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from meatlizard.runtime import Services
from meatlizard.videos.models import Video
from tests.fixtures.backends import Backend
from tests.helpers import user_token
from tests.videos.helpers import keys_under, make_sample, make_video, video_info

pytestmark = pytest.mark.subprocesses

POLL_SECONDS = 0.2
# Only a safety net so a broken worker cannot hang the suite; nothing is timed against it.
GIVE_UP_SECONDS = 600.0


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory, sample_720p: bytes) -> bytes:
    """A 10 s 720p clip: at the slow preset its transcode runs long enough to interrupt
    (several seconds after its first progress report), and the test's own transcode of it
    afterwards stays short."""
    return make_sample(tmp_path_factory.mktemp("long") / "long.mp4", "1280x720", 10)


def _worker_env(backend: Backend, services: Services, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "REDIS_"))}
    for name, value in backend.settings.items():
        env[name.upper()] = str(value)
    env.update(
        DATA_DIR=str(services.settings.data_dir),
        INFERENCE="fallback",
        VIDEO_X264_PRESET="slow",  # x264's slowest allowed: the signal must land mid-encode
        TMPDIR=str(tmp),
        LOG_LEVEL="INFO",
    )
    return env


@pytest.mark.parametrize("settings_overrides", [{"video_transcode_in_web": False}])
async def test_sigterm_stops_the_transcode_and_requeues_the_video(
    client: httpx.AsyncClient,
    services: Services,
    backend: Backend,
    tmp_path: Path,
    long_clip: bytes,
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, long_clip))["id"]
    scratch = tmp_path / "worker-tmp"
    scratch.mkdir()
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "meatlizard", "worker",
            env=_worker_env(backend, services, scratch), stdout=log, stderr=log,
        )  # fmt: skip
        try:
            async with asyncio.timeout(GIVE_UP_SECONDS):
                while True:  # until ffmpeg has reported progress, so it is mid-encode
                    assert worker.returncode is None, log_path.read_text()
                    info = await video_info(client, token, video_id)
                    if info["status"] == "processing" and info["progress"] > 0:
                        break
                    await asyncio.sleep(POLL_SECONDS)
                worker.send_signal(signal.SIGTERM)
                code = await worker.wait()
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    output = log_path.read_text()
    assert code == 0, output
    assert f"transcoding video {video_id}" in output
    assert f"video {video_id} ready" not in output
    info = await video_info(client, token, video_id)
    assert info["status"] == "queued", info  # back in the queue, not ready and not failed
    assert (info["progress"], info["attempts"], info["error"]) == (0, 0, None)
    async with services.sessions() as db:
        row = await db.scalar(select(Video).where(Video.id == video_id))
        assert row is not None and row.claimed_by is None and row.storage_bytes == 0
    assert await keys_under(services, f"videos/{video_id}/") == []
    assert list(scratch.iterdir()) == []  # the temporary folder (source, partial output) went

    # Another worker picks it up from the queue and finishes it.
    assert await services.videos.drain() == 1
    assert (await video_info(client, token, video_id))["status"] == "ready"
