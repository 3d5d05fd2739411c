"""Pastes: text shared by URL, optionally expiring or burned after the first read."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, event, false
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.core.db import Base, UTCDateTime, utcnow

PASTE_ID_BYTES = 9  # 72 random bits -> 12 URL-safe characters


def new_paste_id() -> str:
    """Return a short, unguessable paste id."""
    return secrets.token_urlsafe(PASTE_ID_BYTES)


class Paste(Base):
    """One paste and its options."""

    __tablename__ = "pastes"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_paste_id)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(64), default="text")
    content: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(16), default="unlisted")
    burn_after_read: Mapped[bool] = mapped_column(Boolean, default=False)
    # Zero-knowledge: content is base64(iv + AES-GCM ciphertext); the key never reaches us.
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    delete_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=None)
    # Highlighted lines made once at creation; only page views load them (deferred).
    rendered: Mapped[str | None] = mapped_column(Text, deferred=True, default=None)
    # The content version they were made from: a mismatch means "render again".
    rendered_version: Mapped[str | None] = mapped_column(String(64), default=None)


@event.listens_for(Paste.content, "set")
@event.listens_for(Paste.language, "set")
def _forget_rendering(paste: Paste, value: Any, old: Any, _initiator: Any) -> None:
    """Drop the stored HTML when the text changes, so no stale copy of the old text stays."""
    if isinstance(old, str) and old != value:
        paste.rendered = None
        paste.rendered_version = None
