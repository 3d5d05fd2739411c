"""Request and response bodies of the files API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from meatlizard.core.lifetimes import Expiry, Visibility
from meatlizard.core.numbers import Int64

MAX_PASSWORD_CHARS = 200
MAX_DOWNLOADS_LIMIT = 1_000_000  # the highest download limit a file can have


class FileUpdate(BaseModel):
    """Changes to a file; only the fields sent are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    folder: str | None = Field(default=None, max_length=255)
    visibility: Visibility | None = None
    password: str | None = Field(default=None, max_length=MAX_PASSWORD_CHARS)  # "" removes it
    expires_in: Expiry | None = None
    max_downloads: Int64 | None = Field(default=None, ge=1, le=MAX_DOWNLOADS_LIMIT)

    @field_validator("name")
    @classmethod
    def _name_shows_something(cls, name: str | None) -> str | None:
        """Refuse a name that would clean to nothing (folders are dropped from names)."""
        if name is not None and not name.replace("\\", "/").rsplit("/", 1)[-1].strip(" ."):
            raise PydanticCustomError(
                "blank_name", "needs at least one character other than spaces, dots and slashes"
            )
        return name


class FileRead(BaseModel):
    """A file's metadata and where to find it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    folder: str
    size: int
    offset: int
    status: str
    content_type: str
    visibility: str
    max_downloads: int | None
    download_count: int
    created_at: datetime
    completed_at: datetime | None
    expires_at: datetime | None
    has_password: bool = False
    url: str = ""
    raw_url: str = ""


class QuotaRead(BaseModel):
    """How much a user stores and may store, in bytes."""

    user_id: int
    used_bytes: int
    quota_bytes: int
    custom: bool = False  # an admin set it; otherwise FILES_DEFAULT_QUOTA_BYTES applies


class QuotaSet(BaseModel):
    """An admin's new quota for a user; null returns them to FILES_DEFAULT_QUOTA_BYTES."""

    quota_bytes: Int64 | None = Field(ge=0)
