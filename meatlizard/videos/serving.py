"""Serving a video's stored outputs (playlists, segments, images, tracks) with Range support."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response

from meatlizard.core.errors import NotFound
from meatlizard.core.storage import ObjectNotFound, ObjectStorage
from meatlizard.files.download import range_response
from meatlizard.videos.jobs import content_type_of

SAFE_PATH_RE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\.(m3u8|m4s|mp4|ts|jpg|vtt)$")
CACHE_IMMUTABLE = "private, max-age=86400"  # outputs never change; a new transcode is a new row


def check_path(path: str) -> str:
    """Return a rendition path like `720p/seg_001.m4s`, or raise NotFound for anything else."""
    if not SAFE_PATH_RE.match(path):
        raise NotFound(f"no such file {path!r} in this video")
    return path


async def object_response(
    request: Request, storage: ObjectStorage, key: str, *, content_type: str | None = None
) -> Response:
    """Answer GET or HEAD for one stored object: 200, 206 with one range, or 416."""
    try:
        info = await storage.stat(key)
    except ObjectNotFound:
        raise NotFound("this part of the video is not available") from None
    etag = f'"{info.size}-{int(info.modified.timestamp())}"'
    headers = {
        "Content-Type": content_type or content_type_of(key),
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": CACHE_IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match", "").strip() == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return await range_response(
        request, storage, key, info.size, headers, request.headers.get("range")
    )
