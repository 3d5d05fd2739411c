"""Request and response bodies of the chat API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from meatlizard.chat.models import ArchiveStatus, MessageStatus, Role

TITLE_MAX = 200
SYSTEM_PROMPT_MAX = 4000


class SessionCreate(BaseModel):
    """Options for a new chat session; omitted values come from the preset or defaults."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=TITLE_MAX)
    system_prompt: str | None = Field(default=None, max_length=SYSTEM_PROMPT_MAX)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    model_alias: str | None = Field(default=None, max_length=64)
    preset: str | None = Field(default=None, max_length=64)
    save_transcript: bool | None = None  # None: the user's default


class SessionUpdate(BaseModel):
    """Fields that can be changed on an existing session."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    system_prompt: str | None = Field(default=None, max_length=SYSTEM_PROMPT_MAX)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    model_alias: str | None = Field(default=None, max_length=64)
    save_transcript: bool | None = None


class SessionEnd(BaseModel):
    """Ending a session; `save_transcript` omitted means the session's own setting."""

    model_config = ConfigDict(extra="forbid")

    save_transcript: bool | None = None


class MessageRead(BaseModel):
    """A stored message."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None = None
    role: Role
    content: str
    status: MessageStatus
    created_at: datetime
    model_alias: str | None
    is_fallback: bool
    token_count: int | None
    tokens_per_second: float | None
    # Ids of this message and its alternatives (regenerated answers, edited prompts), oldest
    # first; show another with POST /sessions/{id}/show.
    versions: list[int] = Field(default_factory=list)


class SessionRead(BaseModel):
    """A chat session without its messages."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    system_prompt: str
    temperature: float
    model_alias: str
    preset: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    save_transcript: bool
    archive_status: ArchiveStatus | None


class SessionDetail(SessionRead):
    """A chat session with the branch of its history that is shown."""

    current_leaf_id: int | None
    messages: list[MessageRead]


class ShowMessage(BaseModel):
    """Which version of a message to show (its branch is shown and remembered)."""

    model_config = ConfigDict(extra="forbid")

    message_id: int


class PresetRead(BaseModel):
    """One entry of the prompt library."""

    key: str
    category: str
    label: str
    system_prompt: str
    temperature: float
