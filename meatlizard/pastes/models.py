"""Pastes: text shared by URL, optionally expiring or burned after the first read."""

from __future__ import annotations

import secrets
import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, event, false
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.core.db import Base, UTCDateTime, utcnow

PASTE_ID_BYTES = 9  # 72 random bits -> 12 URL-safe characters
# Highlighted HTML is 5-10 times its text and compresses about 15:1; level 1 costs a tenth
# of a millisecond per 30 KB and gives most of that (level 6 saves another fifth, at 3x).
RENDERED_COMPRESSION_LEVEL = 1


def pack_html(html: str) -> bytes:
    """Return highlighted HTML compressed for storage."""
    return zlib.compress(html.encode(), RENDERED_COMPRESSION_LEVEL)


def unpack_html(packed: bytes) -> str:
    """Return the highlighted HTML that `pack_html` compressed."""
    return zlib.decompress(packed).decode()


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
    # Highlighted lines made once at creation, compressed (`rendered` reads and writes
    # them as text); only page views load them (deferred).
    rendered_z: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True, default=None)
    # The content version they were made from: a mismatch means "render again".
    rendered_version: Mapped[str | None] = mapped_column(String(64), default=None)

    @property
    def rendered(self) -> str | None:
        """Return the stored highlighted lines as text (None: none stored)."""
        packed = self.rendered_z
        if packed is None:
            return None
        known = self.__dict__.get("_unpacked")
        if known is not None and known[0] is packed:
            return str(known[1])
        html = unpack_html(packed)
        self.__dict__["_unpacked"] = (packed, html)
        return html

    @rendered.setter
    def rendered(self, html: str | None) -> None:
        self.rendered_z = packed = None if html is None else pack_html(html)
        self.__dict__["_unpacked"] = None if packed is None else (packed, html)


@event.listens_for(Paste.content, "set")
@event.listens_for(Paste.language, "set")
def _forget_rendering(paste: Paste, value: Any, old: Any, _initiator: Any) -> None:
    """Drop the stored HTML when the text changes, so no stale copy of the old text stays."""
    if isinstance(old, str) and old != value:
        paste.rendered = None
        paste.rendered_version = None
