"""Request bodies of the OpenAI-compatible API (the subset we honour, validated)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meatlizard.core.numbers import Int64

MAX_MESSAGES = 200


class ChatMessageIn(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer"]
    content: str = Field(max_length=200_000)


class ChatCompletionRequest(BaseModel):
    """`POST /v1/chat/completions`; unknown fields (user, metadata...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=64)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=MAX_MESSAGES)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: Int64 | None = Field(default=None, ge=1, le=8192)
    max_completion_tokens: Int64 | None = Field(default=None, ge=1, le=8192)
    stream: bool = False
    n: Int64 = Field(default=1, ge=1, le=1, description="only one choice is generated")
    stop: str | list[str] | None = None

    @field_validator("stop")
    @classmethod
    def _no_stop_sequences(cls, value: str | list[str] | None) -> None:
        if value:
            raise ValueError("stop sequences are not supported by this server")
        return None

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, value: list[ChatMessageIn]) -> list[ChatMessageIn]:
        if value[-1].role != "user":
            raise ValueError("the last message must come from the user")
        return value
