"""Stored files: one row per upload (finished or not) and per-user storage quotas."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.core.db import Base, UTCDateTime, utcnow

FILE_ID_BYTES = 9  # 72 random bits -> 12 URL-safe characters
UPLOADING = "uploading"
READY = "ready"


def new_file_id() -> str:
    """Return a short, unguessable file id."""
    return secrets.token_urlsafe(FILE_ID_BYTES)


class StoredFile(Base):
    """A file in object storage: its upload progress, sniffed type and sharing options."""

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_file_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    folder: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(BigInteger)  # the announced Upload-Length
    offset: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes stored so far
    status: Mapped[str] = mapped_column(String(16), default=UPLOADING, index=True)
    content_type: Mapped[str] = mapped_column(String(127), default="application/octet-stream")
    declared_type: Mapped[str] = mapped_column(String(127), default="")
    storage_key: Mapped[str] = mapped_column(String(255))
    upload_token: Mapped[str | None] = mapped_column(String(1024), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="unlisted")
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    max_downloads: Mapped[int | None] = mapped_column(Integer, default=None)
    download_count: Mapped[int] = mapped_column(Integer, default=0)  # copies, rounded up
    # Bytes sent to others than the owner: the limit allows max_downloads x size of them.
    bytes_served: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Unfinished uploads are swept after this; finished files after `expires_at`, if set.
    upload_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=None)


class FileQuota(Base):
    """An admin's override of FILES_DEFAULT_QUOTA_BYTES for one user."""

    __tablename__ = "file_quotas"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
