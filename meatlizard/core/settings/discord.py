"""The Discord bots, the relay between them, and "Log in with Discord"."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, field_validator


class DiscordSettings(BaseModel):
    server_bot_token: SecretStr | None = None
    client_bot_token: SecretStr | None = None
    discord_guild_id: int | None = Field(default=None, ge=1)
    admin_role_id: int | None = Field(default=None, ge=1)
    metrics_channel_id: int | None = Field(default=None, ge=1)
    transcript_channel_id: int | None = Field(default=None, ge=1)
    # Each bot accepts relay payloads only from the other bot's Discord user id.
    server_bot_user_id: int | None = Field(default=None, ge=1)
    client_bot_user_id: int | None = Field(default=None, ge=1)
    # The Discord client-bot posts metrics this often; it counts as offline after 3 missed posts.
    discord_heartbeat_seconds: float = Field(default=15.0, ge=0.1, le=3600.0)
    # Discord holds at most 500 channels per guild (categories included): the server-bot keeps
    # the guild under this many, deleting the oldest archived session channels to make room.
    discord_channel_budget: int = Field(default=450, ge=1, le=500)
    # Archived session channels are deleted this long after they were archived (their
    # transcripts keep the text); 0 keeps them until the budget needs the room.
    discord_archive_retention_days: int = Field(default=30, ge=0, le=36500)
    # Where the bots and "Log in with Discord" reach Discord (an emulator in tests and trials).
    discord_api_base: str = "https://discord.com/api"
    discord_gateway_url: str | None = None  # None: the URL Discord's API hands out
    # "Log in with Discord" (OAuth2): all three, or none.
    discord_client_id: int | None = Field(default=None, ge=1)
    discord_client_secret: SecretStr | None = None
    discord_oauth_redirect_url: str | None = None

    @field_validator("discord_api_base", "discord_oauth_redirect_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_gateway_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^wss?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    def _oauth_problem(self) -> str | None:
        oauth = {
            "DISCORD_CLIENT_ID": self.discord_client_id,
            "DISCORD_CLIENT_SECRET": self.discord_client_secret,
            "DISCORD_OAUTH_REDIRECT_URL": self.discord_oauth_redirect_url,
        }
        missing = [name for name, value in oauth.items() if value is None]
        if 0 < len(missing) < len(oauth):
            return (
                f'setting {missing[0]}: "Log in with Discord" needs DISCORD_CLIENT_ID, '
                "DISCORD_CLIENT_SECRET and DISCORD_OAUTH_REDIRECT_URL (set all three or none)"
            )
        return None

    @property
    def discord_oauth_enabled(self) -> bool:
        """Return whether "Log in with Discord" is configured."""
        return self.discord_client_id is not None

    @property
    def discord_rest_url(self) -> str:
        """Return the versioned REST base, e.g. https://discord.com/api/v10."""
        base = self.discord_api_base
        return base if re.search(r"/v\d+$", base) else f"{base}/v10"
