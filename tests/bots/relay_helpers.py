"""Helpers shared by the tests of web chats relayed over Discord."""

from __future__ import annotations

from dataclasses import dataclass

from meatlizard.bots.client import ClientBot
from meatlizard.bots.server.bot import ServerBot
from meatlizard.bots.server.web_channels import WEB_CHANNEL_PREFIX
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.guild import Guild
from meatlizard.dev.discord_emulator.models import Application, Channel, User
from tests.fixtures.cluster import Cluster


@dataclass
class RelayWorld:
    """A web process, a guild with both bots, and a way to read the relay channels."""

    web: str
    cluster: Cluster
    emulator: DiscordEmulator
    guild: Guild
    admin: User
    alice: User
    server_app: Application
    client_app: Application
    server: ServerBot
    client: ClientBot

    def web_channels(self) -> list[Channel]:
        return [c for c in self.guild.channels.values() if c.name.startswith(WEB_CHANNEL_PREFIX)]


def session_channel(world: RelayWorld, session_id: str) -> Channel:
    return next(c for c in world.web_channels() if c.topic and session_id in c.topic)


async def close_services(bot: ServerBot) -> None:
    await bot.services.cache.close()
    await bot.services.storage.close()
    await bot.services.engine.dispose()
