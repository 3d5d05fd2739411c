"""Accounts and the tokens that authenticate them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meatlizard.core.db import Base, UTCDateTime, utcnow


class User(Base):
    """A person with a web account (and later a linked Discord identity)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased copy so "Alice" and "alice" cannot both register.
    username_key: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # New sessions keep a transcript when they end unless the user says otherwise.
    transcripts_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    discord_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tokens: Mapped[list[AuthToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class TokenKind(enum.StrEnum):
    """What a token was issued for."""

    SESSION = "session"  # browser login / access_token from /auth/login
    API = "api"  # personal token created by the user for scripts


class AuthToken(Base):
    """An opaque bearer credential; only its SHA-256 digest is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(
        Enum(
            TokenKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        )
    )
    name: Mapped[str] = mapped_column(String(64), default="")
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # First characters of the token, shown in the UI so users can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship(back_populates="tokens")
