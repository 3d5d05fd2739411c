"""Chat sessions and their messages."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meatlizard.core.db import Base, UTCDateTime, utcnow


def new_session_id() -> str:
    """Return a fresh, unguessable session id."""
    return uuid.uuid4().hex


class Role(enum.StrEnum):
    """Who wrote a message."""

    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(enum.StrEnum):
    """How an assistant answer ended."""

    COMPLETE = "complete"
    STOPPED = "stopped"  # the user pressed stop; the text is what was generated so far
    FAILED = "failed"


class ArchiveStatus(enum.StrEnum):
    """Where an ended session's transcript stands (None when none was asked for)."""

    ARCHIVING = "archiving"
    ARCHIVED = "archived"
    FAILED = "failed"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class ChatSession(Base):
    """One conversation with its own system prompt and sampling settings."""

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_session_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    temperature: Mapped[float] = mapped_column(Float, default=0.7)
    model_alias: Mapped[str] = mapped_column(String(64))
    preset: Mapped[str | None] = mapped_column(String(64), default=None)
    # True until the first prompt or the user names the chat; then the title is kept.
    title_auto: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last message of the branch that is shown (and that the model sees next turn).
    current_leaf_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    save_transcript: Mapped[bool] = mapped_column(Boolean, default=False)
    archive_status: Mapped[ArchiveStatus | None] = mapped_column(
        _enum(ArchiveStatus), default=None, nullable=True
    )

    messages: Mapped[list[ChatMessage]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ChatMessage.id",
    )


class ChatMessage(Base):
    """A user prompt or an assistant answer."""

    __tablename__ = "chat_messages"
    # Never reuse the id of a deleted (regenerated) answer, on SQLite too.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True
    )
    # The message this one follows; versions of an answer or a prompt share their parent.
    parent_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        _enum(MessageStatus), default=MessageStatus.COMPLETE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    model_alias: Mapped[str | None] = mapped_column(String(64), default=None)
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    token_count: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_per_second: Mapped[float | None] = mapped_column(Float, default=None)

    session: Mapped[ChatSession] = relationship(back_populates="messages")
