"""Building the settings with readable errors, and what each Discord bot needs of them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError

from meatlizard.core.settings.composed import Settings
from meatlizard.core.settings.sources import SettingsError


def discord_problem(settings: Settings, bot: Literal["server", "client"]) -> str | None:
    """Return one line naming the first setting a Discord bot is missing, or None."""
    needed: list[tuple[str, object]] = [
        ("PAYLOAD_ENCRYPTION_KEY", settings.payload_encryption_key),
        ("DISCORD_GUILD_ID", settings.discord_guild_id),
    ]
    if bot == "server":
        needed += [
            ("SERVER_BOT_TOKEN", settings.server_bot_token),
            ("ADMIN_ROLE_ID", settings.admin_role_id),
            ("CLIENT_BOT_USER_ID", settings.client_bot_user_id),
        ]
    else:
        needed += [
            ("CLIENT_BOT_TOKEN", settings.client_bot_token),
            ("SERVER_BOT_USER_ID", settings.server_bot_user_id),
        ]
    for name, value in needed:
        if value is None:
            return f"setting {name}: required by the {bot}-bot"
    return None


def describe_validation_error(error: ValidationError) -> str:
    """Turn a pydantic error into one line per bad setting, naming the variable."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"] if isinstance(part, str)).upper()
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"setting {name or 'configuration'}: {message}" if name else message)
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, raising SettingsError with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
