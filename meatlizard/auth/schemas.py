"""Request and response bodies of the auth API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Credentials(BaseModel):
    """Username and password, for registering and logging in."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Registration(Credentials):
    """A new account; `invite` is needed when the server runs REGISTRATION=invite-only."""

    invite: str | None = Field(default=None, min_length=1, max_length=64)


class UserRead(BaseModel):
    """An account as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    is_admin: bool
    transcripts_default: bool
    created_at: datetime


class UserUpdate(BaseModel):
    """Preferences a user can change."""

    model_config = ConfigDict(extra="forbid")

    transcripts_default: bool | None = None


class LoginResult(BaseModel):
    """A bearer token for scripts; browsers also get it as a cookie."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None
    user: UserRead


class ApiTokenCreate(BaseModel):
    """A new personal API token."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)


class ApiTokenRead(BaseModel):
    """A personal API token, without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    """The one response that shows the token's secret."""

    token: str
