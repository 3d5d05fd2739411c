"""Request and response bodies of the videos API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from meatlizard.core.lifetimes import Visibility


class VideoCreate(BaseModel):
    """Make a video from one of your finished uploads."""

    file_id: str = Field(min_length=1, max_length=16)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    visibility: Visibility | None = None


class VideoUpdate(BaseModel):
    """Changes to a video; only the fields sent are changed."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    visibility: Visibility | None = None


class VideoAccepted(BaseModel):
    """A video queued for transcoding."""

    id: str
    status: str
    url: str


class CaptionRead(BaseModel):
    """A caption track and where to fetch it."""

    lang: str
    label: str
    size: int
    url: str


class VideoRead(BaseModel):
    """A video: its metadata, transcode state (percent, ETA, error) and renditions."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    description: str
    visibility: str
    status: str
    progress: float = Field(description="percent of the transcode done, 0-100")
    eta_seconds: float | None = None
    error: str | None
    attempts: int
    duration_seconds: float | None
    width: int | None
    height: int | None
    has_audio: bool
    renditions: list[dict[str, Any]]
    view_count: int
    created_at: datetime
    finished_at: datetime | None
    owner: str = ""
    url: str = ""
    master_url: str | None = None
    poster_url: str | None = None
    thumbnails_url: str | None = None
    share_url: str | None = None  # one progressive MP4 (lowest rung) for link previews
    embed_url: str = ""
    captions: list[CaptionRead] = []
