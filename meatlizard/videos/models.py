"""Videos: one row per uploaded video with its transcode state, and its caption tracks."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.core.db import Base, UTCDateTime, utcnow

VIDEO_ID_BYTES = 9  # 72 random bits -> 12 URL-safe characters
QUEUED = "queued"
PROCESSING = "processing"
READY = "ready"
FAILED = "failed"
TAKEN_DOWN = "taken_down"  # removed by the moderators; never served, then deleted


def new_video_id() -> str:
    """Return a short, unguessable video id."""
    return secrets.token_urlsafe(VIDEO_ID_BYTES)


class Video(Base):
    """A video made from a stored file: metadata, transcode progress and its HLS renditions."""

    __tablename__ = "videos"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_video_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str | None] = mapped_column(
        ForeignKey("files.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="unlisted", index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1 of the transcode
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(128), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    duration_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    has_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    thumbnails: Mapped[bool] = mapped_column(Boolean, default=False)
    # Counted against the owner's storage quota: an estimate reserved before transcoding,
    # then the stored size of the renditions (0 while queued or after a failure).
    storage_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    share_mp4: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class VideoCaption(Base):
    """A WebVTT caption track of a video, one per language."""

    __tablename__ = "video_captions"
    __table_args__ = (UniqueConstraint("video_id", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(35))
    label: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
