"""Videos: where and how uploads are transcoded."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VideoSettings(BaseModel):
    video_transcode_in_web: bool = True  # false: only `meatlizard worker` transcodes
    video_x264_preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"
    ] = "veryfast"
    video_max_attempts: int = Field(default=3, ge=1, le=20)  # crashed transcodes are retried
