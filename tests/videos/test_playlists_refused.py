"""Uploads that point at other files (HLS, concat, DASH) never become videos of those files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from meatlizard.runtime import Services
from tests.helpers import user_token
from tests.videos.conftest import make_sample
from tests.videos.helpers import keys_under, make_video, video_info


@pytest.fixture
def local_media(tmp_path: Path, sample_720p: bytes) -> tuple[Path, bytes]:
    """Someone else's media on this machine, as an MPEG-TS that an HLS playlist may name."""
    path = tmp_path / "private.ts"
    return path, make_sample(path, "320x240", 2)


def hls(target: Path) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXT-X-VERSION:3\n"
        f"#EXTINF:2.0,\nfile://{target}\n#EXT-X-ENDLIST\n"
    ).encode()


def concat(target: Path) -> bytes:
    return f"ffconcat version 1.0\nfile '{target}'\n".encode()


@pytest.mark.parametrize("playlist", [hls, concat])
async def test_a_playlist_naming_a_local_file_is_refused(
    client: httpx.AsyncClient,
    services: Services,
    local_media: tuple[Path, bytes],
    playlist: Callable[[Path], bytes],
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, playlist(local_media[0])))["id"]
    await services.jobs.drain()
    info = await video_info(client, token, video_id)
    assert info["status"] == "failed", info
    assert "playlist or manifest" in info["error"], info["error"]
    assert await keys_under(services, f"videos/{video_id}/") == []


async def test_a_real_container_is_still_accepted(
    client: httpx.AsyncClient, services: Services, local_media: tuple[Path, bytes]
) -> None:
    token = await user_token(client)
    video_id = (await make_video(client, token, local_media[1]))["id"]
    await services.jobs.drain()
    info = await video_info(client, token, video_id)
    assert info["status"] == "ready", info["error"]
