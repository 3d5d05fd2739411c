"""A local Discord API emulator (REST v10, Gateway, OAuth2) for unmodified discord.py clients.

Start a DiscordEmulator, set `discord.http.Route.BASE = emulator.api_url` and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)`, then run
bots with tokens from `emulator.create_bot(...)`. See docs/discord-emulator.md.
"""

from meatlizard.dev.discord_emulator.errors import ApiError
from meatlizard.dev.discord_emulator.gateway import Intent
from meatlizard.dev.discord_emulator.interactions import Interaction
from meatlizard.dev.discord_emulator.models import Overwrite
from meatlizard.dev.discord_emulator.permissions import Permission
from meatlizard.dev.discord_emulator.ratelimit import MESSAGE_CREATE
from meatlizard.dev.discord_emulator.server import DiscordEmulator

__all__ = [
    "MESSAGE_CREATE",
    "ApiError",
    "DiscordEmulator",
    "Intent",
    "Interaction",
    "Overwrite",
    "Permission",
]
