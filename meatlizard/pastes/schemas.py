"""Request and response bodies of the pastes API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Expiry = Literal["10m", "1h", "1d", "1w", "1M", "never"]
Visibility = Literal["public", "unlisted", "private"]


class PasteCreate(BaseModel):
    """A new paste."""

    content: str = Field(min_length=1)
    title: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, max_length=64)
    expires_in: Expiry | None = None
    burn_after_read: bool = False
    visibility: Visibility = "unlisted"
    password: str | None = Field(default=None, min_length=1, max_length=200)


class PasteRead(BaseModel):
    """A paste's metadata and where to find it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    language: str
    size: int
    visibility: str
    burn_after_read: bool
    created_at: datetime
    expires_at: datetime | None
    has_password: bool = False
    url: str = ""
    raw_url: str = ""
    delete_token: str | None = None  # only in the creation answer of an anonymous paste
