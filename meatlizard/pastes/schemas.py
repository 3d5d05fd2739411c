"""Request and response bodies of the pastes API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from meatlizard.core.lifetimes import Expiry, Visibility


class PasteCreate(BaseModel):
    """A new paste."""

    content: str = Field(min_length=1)
    title: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, max_length=64)
    expires_in: Expiry | None = None
    burn_after_read: bool = False
    visibility: Visibility = "unlisted"
    password: str | None = Field(default=None, min_length=1, max_length=200)
    encrypted: bool = Field(
        default=False,
        description="content is base64(12-byte IV + AES-256-GCM ciphertext) made in the browser",
    )


class PasteRead(BaseModel):
    """A paste's metadata and where to find it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    language: str
    size: int
    visibility: str
    burn_after_read: bool
    encrypted: bool = False
    created_at: datetime
    expires_at: datetime | None
    has_password: bool = False
    url: str = ""
    raw_url: str = ""
    delete_token: str | None = Field(
        default=None, description="only in the creation answer of an anonymous paste"
    )

    @model_serializer(mode="wrap")
    def _drop_empty_token(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("delete_token") is None:
            data.pop("delete_token", None)
        return data
