"""Start the server-bot or the Discord client-bot from the settings."""

from __future__ import annotations

import logging

import discord
import yarl
from discord.gateway import DiscordWebSocket

from meatlizard.bots import GUILD_READY_TIMEOUT_S
from meatlizard.bots.client import ClientBot
from meatlizard.bots.server.bot import ServerBot
from meatlizard.bots.web_relay import DiscordWebRelay
from meatlizard.core.cache import cache_from_settings
from meatlizard.core.settings import Settings
from meatlizard.relay.discord_gateway import DiscordRelayGateway
from meatlizard.relay.run import load_engines, watch_registry
from meatlizard.relay.wire import PayloadSealer
from meatlizard.runtime import Services

log = logging.getLogger(__name__)


def use_discord_endpoints(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_BASE and DISCORD_GATEWAY_URL (e.g. a local emulator)."""
    discord.http.Route.BASE = settings.discord_rest_url
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def build_server_bot(
    settings: Settings, *, guild_ready_timeout: float = GUILD_READY_TIMEOUT_S
) -> ServerBot:
    """Wire the services with the Discord relay as their inference gateway."""
    relay = DiscordRelayGateway(
        settings.default_model, heartbeat_seconds=settings.discord_heartbeat_seconds
    )
    services = Services.build(settings, inference=relay)
    sealer = PayloadSealer.from_settings(settings, services.cache)
    web_relay = None
    if settings.redis_url:  # web processes queue their chats there (INFERENCE=remote)
        web_relay = DiscordWebRelay(
            redis_url=settings.redis_url,
            sealer=sealer,
            worker_id=settings.worker_id or f"discord-relay-{settings.client_bot_user_id}",
            relay=relay,
        )
    return ServerBot(
        services=services,
        relay=relay,
        sealer=sealer,
        web_relay=web_relay,
        guild_ready_timeout=guild_ready_timeout,
    )


async def run_server_bot(settings: Settings) -> int:
    """Serve slash commands and relay requests until the process is stopped."""
    assert settings.server_bot_token is not None
    use_discord_endpoints(settings)
    bot = build_server_bot(settings)
    await bot.services.prepare()
    try:
        async with bot:
            await bot.start(settings.server_bot_token.get_secret_value())
    finally:
        await bot.services.close()
    return 0


async def run_client_bot(settings: Settings) -> int:
    """Load the models and answer relayed requests until the process is stopped."""
    assert settings.client_bot_token and settings.server_bot_user_id and settings.discord_guild_id
    use_discord_endpoints(settings)
    engines = await load_engines(settings)
    if not engines:
        log.error("no model could be loaded; the client-bot stops")
        return 3
    # Remembers the nonces already opened (Redis when configured, else this process).
    cache = cache_from_settings(settings)
    bot = ClientBot(
        sealer=PayloadSealer.from_settings(settings, cache),
        engines=engines,
        default_alias=settings.default_model,
        server_bot_id=settings.server_bot_user_id,
        guild_id=settings.discord_guild_id,
        heartbeat_seconds=settings.discord_heartbeat_seconds,
        metrics_channel_id=settings.metrics_channel_id,
        slots=settings.model_parallel,
    )
    watch = watch_registry(settings, bot)
    try:
        async with bot:
            await bot.start(settings.client_bot_token.get_secret_value())
    finally:
        await watch.stop()
        for engine in bot.engines.values():
            await engine.close()
        await cache.close()
    return 0
