"""Both bots as real discord.py clients against the emulator, with the real model answering."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from meatlizard.bots.client import ClientBot
from meatlizard.bots.run import build_server_bot
from meatlizard.bots.server.bot import ServerBot
from meatlizard.bots.server.channels import SERVER_BOT_PERMISSIONS
from meatlizard.core.cache import MemoryCache, cache_from_settings
from meatlizard.core.settings import Settings
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.inference.service import LocalInference
from meatlizard.relay.discord_gateway import DiscordRelayGateway
from meatlizard.relay.wire import PayloadSealer
from meatlizard.runtime import Services
from tests.bots.helpers import BotsWorld
from tests.bots.relay_helpers import RelayWorld
from tests.fixtures.backends import Backend, make_settings, reset_production
from tests.fixtures.cluster import KEY, Cluster
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, running

HEARTBEAT_SECONDS = 1.0
MAX_REPLY_TOKENS = 96


@pytest_asyncio.fixture
async def bots_world(
    discord_emulator: DiscordEmulator,
    backend: Backend,
    tmp_path: Path,
    model_inference: LocalInference,
    request: pytest.FixtureRequest,
) -> AsyncIterator[BotsWorld]:
    """Start the server-bot and the client-bot (real SmolLM2) in a fresh guild."""
    emu = discord_emulator
    owner = emu.create_user("owner")
    guild = emu.create_guild("MeatLizard", owner)
    admin_role = emu.create_role(guild, "admins")
    bots_role = emu.create_role(guild, "bots", SERVER_BOT_PERMISSIONS.value)
    admin, alice, bob = emu.create_user("ada"), emu.create_user("alice"), emu.create_user("bob")
    emu.add_member(guild, admin, [admin_role])
    emu.add_member(guild, alice)
    emu.add_member(guild, bob)
    server_app, client_app = emu.create_bot("server-bot"), emu.create_bot("client-bot")
    emu.add_member(guild, server_app, [bots_role])
    emu.add_member(guild, client_app)

    key = secrets.token_hex(32)
    max_tokens = request.node.get_closest_marker("max_reply_tokens")
    settings = make_settings(
        backend,
        tmp_path,
        payload_encryption_key=key,
        discord_guild_id=guild.id,
        admin_role_id=admin_role.id,
        client_bot_user_id=client_app.id,
        server_bot_user_id=server_app.id,
        discord_heartbeat_seconds=HEARTBEAT_SECONDS,
        model_max_tokens=max_tokens.args[0] if max_tokens else MAX_REPLY_TOKENS,
        metrics_interval_seconds=1.0,
    )
    relay = DiscordRelayGateway(settings.default_model, heartbeat_seconds=HEARTBEAT_SECONDS)
    services = Services.build(settings, inference=relay)
    await services.prepare()
    server = ServerBot(
        services=services,
        relay=relay,
        sealer=PayloadSealer.from_settings(settings, services.cache),
        guild_ready_timeout=GUILD_READY_TIMEOUT_S,
    )
    # The client-bot is another process: its replay memory is its own (or the shared Redis).
    client_cache = cache_from_settings(settings)
    engine = model_inference.engine_for("smollm2")
    client = ClientBot(
        sealer=PayloadSealer.from_settings(settings, client_cache),
        engines={"smollm2": engine},
        default_alias="smollm2",
        server_bot_id=server_app.id,
        guild_id=guild.id,
        heartbeat_seconds=HEARTBEAT_SECONDS,
        guild_ready_timeout=GUILD_READY_TIMEOUT_S,
    )
    try:
        async with running(server, server_app.token), running(client, client_app.token):
            await emu.wait_until(lambda: server.transcript_channel_id is not None)  # made last
            yield BotsWorld(
                emu,
                guild,
                admin_role,
                admin,
                alice,
                bob,
                server_app,
                client_app,
                server,
                client,
                services,
                relay,
            )
    finally:
        await services.jobs.drain()
        if backend.name == "production":
            await reset_production(services)
        with contextlib.suppress(Exception):
            await client_cache.close()
        with contextlib.suppress(Exception):
            await services.cache.close()
        await services.storage.close()
        await services.engine.dispose()


@pytest_asyncio.fixture
async def relay_world(
    discord_emulator: DiscordEmulator,
    cluster: Cluster,
    tmp_path: Path,
    model_inference: LocalInference,
) -> AsyncIterator[RelayWorld]:
    """Start the web process and both bots; yield once the web sees the relay as a worker."""
    emu = discord_emulator
    owner = emu.create_user("owner")
    guild = emu.create_guild("MeatLizard", owner)
    admin_role = emu.create_role(guild, "admins")
    bots_role = emu.create_role(guild, "bots", SERVER_BOT_PERMISSIONS.value)
    admin, alice = emu.create_user("ada"), emu.create_user("alice")
    emu.add_member(guild, admin, [admin_role])
    emu.add_member(guild, alice)
    server_app, client_app = emu.create_bot("server-bot"), emu.create_bot("client-bot")
    emu.add_member(guild, server_app, [bots_role])
    emu.add_member(guild, client_app)
    settings = Settings(
        database_url=cluster.env["DATABASE_URL"],
        redis_url=cluster.env["REDIS_URL"],
        payload_encryption_key=KEY,
        data_dir=tmp_path / "bot-data",
        inference="fallback",
        discord_guild_id=guild.id,
        admin_role_id=admin_role.id,
        client_bot_user_id=client_app.id,
        server_bot_user_id=server_app.id,
        discord_heartbeat_seconds=HEARTBEAT_SECONDS,
        metrics_interval_seconds=1.0,
    )  # type: ignore[call-arg]
    server = build_server_bot(settings, guild_ready_timeout=GUILD_READY_TIMEOUT_S)
    await server.services.prepare()
    client = ClientBot(
        sealer=PayloadSealer.from_settings(settings, MemoryCache()),
        engines={"smollm2": model_inference.engine_for("smollm2")},
        default_alias="smollm2",
        server_bot_id=server_app.id,
        guild_id=guild.id,
        heartbeat_seconds=HEARTBEAT_SECONDS,
        guild_ready_timeout=GUILD_READY_TIMEOUT_S,
    )
    web_started = asyncio.create_task(cluster.web())  # starts while the bots connect
    try:
        async with running(server, server_app.token), running(client, client_app.token):
            web = await web_started
            await cluster.wait_for_workers(web, 1)
            yield RelayWorld(
                web, cluster, emu, guild, admin, alice, server_app, client_app, server, client
            )
    finally:
        if not web_started.done():
            web_started.cancel()
        await server.services.cache.close()
        await server.services.storage.close()
        await server.services.engine.dispose()
