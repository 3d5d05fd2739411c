"""What ffmpeg may read of an upload: its own bytes, as a real media container, nothing else.

A playlist or manifest (HLS, concat, DASH) names other files, `file:///...` included, and
ffmpeg would read them into the new video: another user's media, or any file the process can
open. So only the local file protocol is allowed, and only demuxers of self-contained media.
"""

from __future__ import annotations

import re

# Demuxers of media containers that hold their own streams (ffmpeg's short names).
MEDIA_DEMUXERS = "mov,matroska,webm,avi,mpegts,flv,ogg,mpeg,asf,mxf,gif,h264,hevc,m4v"
# Options put before every `-i` of an uploaded source.
SOURCE_OPTIONS = ["-protocol_whitelist", "file", "-format_whitelist", MEDIA_DEMUXERS]
PLAYLISTS = frozenset({"hls", "applehttp", "concat", "dash", "webm_dash_manifest", "ffmetadata"})
_REFUSED = re.compile(r"\[([\w,]+) @ 0x[0-9a-f]+\] Format not on whitelist")


def refusal(stderr: str) -> str | None:
    """Return a clear reason when ffmpeg refused the upload's format, else None."""
    found = _REFUSED.search(stderr)
    if found is None:
        return None
    name = found.group(1)
    if PLAYLISTS.intersection(name.split(",")):
        return (
            f"the upload is a playlist or manifest ({name}) that points at other files, "
            "not a video; upload the video file itself"
        )
    return f"the upload's format ({name}) is not a video container this site accepts"
