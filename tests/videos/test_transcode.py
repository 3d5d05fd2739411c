"""A real clip uploaded, transcoded to HLS and served, on both backends."""

from __future__ import annotations

import re

import httpx

from meatlizard.core.services import Services
from tests.helpers import bearer, user_token
from tests.videos.helpers import keys_under, make_video, video_info

HLS = "application/vnd.apple.mpegurl"


def uris(playlist: str) -> list[str]:
    """Return the URI lines of a playlist."""
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


async def test_upload_transcode_serve_and_delete(
    client: httpx.AsyncClient, services: Services, sample_720p: bytes
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

    outside = await client.get(f"/v/{video_id}/hls/../../files/x")
    assert outside.status_code == 404

    stored = await keys_under(services, f"videos/{video_id}/")
    assert f"videos/{video_id}/hls/master.m3u8" in stored
    assert f"videos/{video_id}/poster.jpg" in stored
    gone = await client.delete(f"/api/v1/videos/{video_id}", headers=bearer(token))
    assert gone.status_code == 204
    assert await keys_under(services, f"videos/{video_id}/") == []
    assert (await client.get(f"/v/{video_id}/hls/master.m3u8")).status_code == 404
