"""Both bots as real discord.py clients against the emulator, with the real model answering."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.bots.client import ClientBot
from meatlizard.bots.relay import DiscordRelayInference
from meatlizard.bots.server.bot import ServerBot
from meatlizard.bots.server.channels import SERVER_BOT_PERMISSIONS
from meatlizard.core.cache import cache_from_settings
from meatlizard.core.services import Services
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.guild import Guild
from meatlizard.dev.discord_emulator.models import Application, Role, User
from meatlizard.inference.service import LocalInference
from meatlizard.workers.wire import PayloadSealer
from tests.conftest import Backend, make_settings
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, running

HEARTBEAT_SECONDS = 1.0
MAX_REPLY_TOKENS = 96
ACK_DEADLINE_S = 3.0  # Discord's window for the first answer to an interaction


@dataclass
class BotsWorld:
    """A guild with both bots running, an admin, and two ordinary members."""

    emulator: DiscordEmulator
    guild: Guild
    admin_role: Role
    admin: User
    alice: User
    bob: User
    server_app: Application
    client_app: Application
    server: ServerBot
    client: ClientBot
    services: Services
    relay: DiscordRelayInference


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
    relay = DiscordRelayInference(settings.default_model, heartbeat_seconds=HEARTBEAT_SECONDS)
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
    )
    try:
        async with running(server, server_app.token), running(client, client_app.token):
            await emu.wait_until(lambda: server.relay_channel_id is not None)
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
            from tests.conftest import _reset_production

            await _reset_production(services)
        with contextlib.suppress(Exception):
            await client_cache.close()
        with contextlib.suppress(Exception):
            await services.cache.close()
        await services.storage.close()
        await services.engine.dispose()


async def wait_for(predicate, limit: float = 120.0):  # type: ignore[no-untyped-def]
    """Poll a condition that does not show up as an emulator change (e.g. a database row)."""

    async def _loop():  # type: ignore[no-untyped-def]
        while not (result := await predicate()):  # noqa: ASYNC110 - a database row has no event
            await asyncio.sleep(0.05)
        return result

    return await asyncio.wait_for(_loop(), limit)


class _SlowSession:
    """One database session that opens only after a delay."""

    def __init__(self, session: AsyncSession, delay_s: float) -> None:
        self.session, self.delay_s = session, delay_s

    async def __aenter__(self) -> AsyncSession:
        await asyncio.sleep(self.delay_s)  # the injected slowness itself, not a wait for an event
        return await self.session.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self.session.__aexit__(*exc)


class SlowSessions:
    """A session factory whose every session opens late, like a database under load."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], delay_s: float) -> None:
        self.factory, self.delay_s = factory, delay_s

    def __call__(self) -> _SlowSession:
        return _SlowSession(self.factory(), self.delay_s)


@contextlib.contextmanager
def slow_database(world: BotsWorld, delay_s: float = ACK_DEADLINE_S + 0.5) -> Iterator[None]:
    """Make every database session the server-bot opens take longer than Discord's deadline."""
    saved = world.services.sessions
    world.services.sessions = SlowSessions(saved, delay_s)  # type: ignore[assignment]
    try:
        yield
    finally:
        world.services.sessions = saved
