"""`meatlizard dev discord-emulator`: serve a seeded local Discord for trials."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from meatlizard.bots.server.channels import SERVER_BOT_PERMISSIONS
from meatlizard.dev.discord_emulator.permissions import Permission
from meatlizard.dev.discord_emulator.server import DiscordEmulator


def seed(emulator: DiscordEmulator) -> dict[str, str]:
    """Create a guild with an owner, an admin role and two bots; return settings to use them."""
    owner = emulator.create_user("owner")
    guild = emulator.create_guild("MeatLizard Local", owner)
    admin = emulator.create_role(guild, "admin", permissions=int(Permission.ADMINISTRATOR))
    emulator.give_role(guild, owner, admin)
    # The server-bot gets the least-privilege role docs/deployment.md documents, not admin.
    bots = emulator.create_role(guild, "server-bot", permissions=SERVER_BOT_PERMISSIONS.value)
    server_bot = emulator.create_bot("server-bot", owner=owner)
    client_bot = emulator.create_bot("client-bot", owner=owner)
    emulator.add_member(guild, server_bot, roles=[bots])
    emulator.add_member(guild, client_bot)
    return {
        "DISCORD_API_BASE": emulator.api_url,
        "DISCORD_GATEWAY_URL": emulator.gateway_url,
        "SERVER_BOT_TOKEN": server_bot.token,
        "CLIENT_BOT_TOKEN": client_bot.token,
        "SERVER_BOT_USER_ID": str(server_bot.id),
        "CLIENT_BOT_USER_ID": str(client_bot.id),
        "DISCORD_GUILD_ID": str(guild.id),
        "ADMIN_ROLE_ID": str(admin.id),
    }


async def serve(host: str, port: int, echo: Callable[[str], None]) -> None:
    """Start the emulator, print the seeded settings and serve until cancelled."""
    emulator = DiscordEmulator()
    await emulator.start(host, port)
    try:
        echo(f"Discord emulator listening on {emulator.url}")
        for name, value in seed(emulator).items():
            echo(f"{name}={value}")
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
