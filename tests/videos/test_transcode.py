"""A real clip uploaded, transcoded to HLS and served, on both backends."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx

from meatlizard.runtime import Services
from tests.helpers import bearer, user_token
from tests.videos.helpers import keys_under, make_video, video_info

HLS = "application/vnd.apple.mpegurl"


def probe_streams(data: bytes, tmp_path: Path) -> list[dict[str, Any]]:
    """Return ffprobe's streams of an MP4 given as bytes."""
    path = tmp_path / "probe.mp4"
    path.write_bytes(data)
    args = ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)]
    found: list[dict[str, Any]] = json.loads(subprocess.run(args, capture_output=True).stdout)[
        "streams"
    ]
    return found


def uris(playlist: str) -> list[str]:
    """Return the URI lines of a playlist."""
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


async def test_upload_transcode_serve_and_delete(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes, tmp_path: Path
) -> None:
    token = await user_token(client)
    accepted = await make_video(client, token, sample_720p, title="Test pattern")
    assert accepted["status"] == "queued"
    video_id = accepted["id"]
    await services.jobs.drain()  # the in-process job started by the POST

    info = await video_info(client, token, video_id)
    assert info["status"] == "ready", info["error"]
    assert info["progress"] == 100 and info["error"] is None and info["eta_seconds"] is None
    assert (info["width"], info["height"], info["has_audio"]) == (1280, 720, True)
    assert abs(info["duration_seconds"] - 4) < 0.2
    ladder = [(r["name"], r["width"], r["height"]) for r in info["renditions"]]
    assert ladder == [("360p", 640, 360), ("720p", 1280, 720), ("audio", None, None)]

    master = await client.get(f"/v/{video_id}/hls/master.m3u8")
    assert master.status_code == 200
    assert master.headers["content-type"] == HLS
    text = master.text
    assert text.startswith("#EXTM3U\n")
    assert '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"' in text
    assert re.findall(r"RESOLUTION=(\d+x\d+)", text) == ["640x360", "1280x720"]
    assert "1920x1080" not in text  # never upscaled
    assert uris(text) == ["360p/index.m3u8", "720p/index.m3u8", "audio/index.m3u8"]
    assert re.search(r'BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="mp4a.40.2"\n', text)

    for variant in uris(text):
        playlist = await client.get(f"/v/{video_id}/hls/{variant}")
        assert playlist.headers["content-type"] == HLS
        assert "#EXT-X-ENDLIST" in playlist.text
        init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', playlist.text)
        assert init is not None
        folder = variant.rsplit("/", 1)[0]
        head = await client.get(f"/v/{video_id}/hls/{folder}/{init.group(1)}")
        assert head.headers["content-type"] == "video/mp4" and b"ftyp" in head.content[:16]
        segments = uris(playlist.text)
        assert segments
        whole = await client.get(f"/v/{video_id}/hls/{folder}/{segments[0]}")
        assert whole.status_code == 200
        assert whole.headers["content-type"] == "video/iso.segment"
        part = await client.get(
            f"/v/{video_id}/hls/{folder}/{segments[0]}", headers={"Range": "bytes=10-109"}
        )
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 10-109/{len(whole.content)}"
        assert part.content == whole.content[10:110]

    poster = await client.get(f"/v/{video_id}/poster.jpg")
    assert poster.headers["content-type"] == "image/jpeg" and poster.content[:2] == b"\xff\xd8"
    sprite = await client.get(f"/v/{video_id}/sprite.jpg")
    assert sprite.content[:2] == b"\xff\xd8"
    track = await client.get(f"/v/{video_id}/thumbs.vtt")
    assert track.text.startswith("WEBVTT")
    cues = re.findall(r"sprite\.jpg#xywh=(\d+),(\d+),160,90", track.text)
    assert [(int(x), int(y)) for x, y in cues] == [(0, 0), (160, 0), (320, 0), (480, 0)]

    assert info["share_url"] == f"{client.base_url}/v/{video_id}/share.mp4"
    share = await client.get(f"/v/{video_id}/share.mp4")
    assert share.status_code == 200 and share.headers["content-type"] == "video/mp4"
    body = share.content
    assert 0 < body.index(b"moov") < body.index(b"mdat")  # progressive: plays while loading
    streams = probe_streams(body, tmp_path)
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [
        ("video", "h264"),
        ("audio", "aac"),
    ]
    assert (streams[0]["width"], streams[0]["height"]) == (640, 360)
    assert abs(float(streams[0]["duration"]) - 4) < 0.2
    page = (await client.get(f"/v/{video_id}")).text
    assert f'<meta property="og:video" content="{info["share_url"]}">' in page
    assert '<meta property="og:video:type" content="video/mp4">' in page

    outside = await client.get(f"/v/{video_id}/hls/../../files/x")
    assert outside.status_code == 404

    stored = await keys_under(services, f"videos/{video_id}/")
    assert f"videos/{video_id}/hls/master.m3u8" in stored
    assert f"videos/{video_id}/poster.jpg" in stored
    gone = await client.delete(f"/api/v1/videos/{video_id}", headers=bearer(token))
    assert gone.status_code == 204
    assert await keys_under(services, f"videos/{video_id}/") == []
    assert (await client.get(f"/v/{video_id}/hls/master.m3u8")).status_code == 404
