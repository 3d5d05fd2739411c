"""The gateway: discord.py gets READY, GUILD_CREATE, events, RESUME; silent connections close."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import discord
from discord.ext import commands

from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.gateway import (
    HEARTBEAT,
    HEARTBEAT_ACK,
    HELLO,
    IDENTIFY,
    RESUME,
)
from meatlizard.dev.discord_emulator.heartbeat import SESSION_TIMED_OUT
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running


def make_bot() -> commands.Bot:
    return commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )


async def test_on_ready_sees_the_guild_channels_roles_and_members(discord_world: DiscordWorld):
    bot = make_bot()
    async with running(bot, discord_world.bot.token):
        assert bot.user is not None and bot.user.id == discord_world.bot.bot.id
        assert bot.application_id == discord_world.bot.id
        guild = bot.get_guild(discord_world.guild.id)
        assert guild is not None and guild.name == "MeatLizard Test"
        assert [c.name for c in guild.text_channels] == ["general"]
        assert {m.name for m in guild.members} == {"owner", "alice", "server-bot"}
        assert guild.default_role.permissions.send_messages
        assert guild.me is not None and guild.owner_id == discord_world.owner.id


async def test_user_messages_reach_on_message(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    seen: asyncio.Queue[discord.Message] = asyncio.Queue()
    bot = make_bot()
    bot.add_listener(seen.put, "on_message")
    general = next(iter(discord_world.guild.channels.values()))
    async with running(bot, discord_world.bot.token):
        emulator.post_message(general, discord_world.member, "hello bot")
        message = await seen.get()
        assert message.content == "hello bot"
        assert message.author.id == discord_world.member.id
        assert isinstance(message.author, discord.Member)
        assert message.channel.id == general.id


async def test_zlib_stream_is_honoured_when_enabled(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    emulator.core.gateway.honour_compression = True
    seen: asyncio.Queue[discord.Message] = asyncio.Queue()
    bot = make_bot()
    bot.add_listener(seen.put, "on_message")
    general = next(iter(discord_world.guild.channels.values()))
    async with running(bot, discord_world.bot.token):
        [session] = emulator.core.gateway.live_sessions(discord_world.bot)
        assert session.connection is not None and session.connection.compressor is not None
        emulator.post_message(general, discord_world.member, "compressed")
        assert (await seen.get()).content == "compressed"


HEARTBEAT_INTERVAL_S = 1.0
CLOSE_WAIT_S = 30.0  # a safety net: a silent connection is closed after 1.5 intervals


@contextlib.asynccontextmanager
async def identified(
    emulator: DiscordEmulator, token: str
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Open a raw gateway connection, IDENTIFY, and yield it once READY came."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{emulator.gateway_url}?v=10&encoding=json") as ws,
    ):
        hello = await ws.receive_json(timeout=CLOSE_WAIT_S)
        assert hello["op"] == HELLO
        assert hello["d"]["heartbeat_interval"] == HEARTBEAT_INTERVAL_S * 1000
        await ws.send_json({"op": IDENTIFY, "d": {"token": token, "intents": 0}})
        ready = await ws.receive_json(timeout=CLOSE_WAIT_S)
        assert ready["t"] == "READY"
        yield ws


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """Read (and drop) frames until the server closes the connection; return the close code."""
    async with asyncio.timeout(CLOSE_WAIT_S):
        while (await ws.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            pass
    return ws.close_code


async def test_a_connection_that_never_heartbeats_is_closed_with_4009_and_can_resume(
    discord_world: DiscordWorld,
):
    emulator, gateway = discord_world.emulator, discord_world.emulator.core.gateway
    emulator.set_heartbeat(HEARTBEAT_INTERVAL_S)
    async with identified(emulator, discord_world.bot.token) as ws:
        assert await closed_with(ws) == SESSION_TIMED_OUT
    assert gateway.timeouts == 1
    [session] = gateway.live_sessions(discord_world.bot)  # Discord: "forced to Resume"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{emulator.gateway_url}?v=10&encoding=json") as ws,
    ):
        await ws.receive_json(timeout=CLOSE_WAIT_S)  # HELLO
        resume = {"token": discord_world.bot.token, "session_id": session.id, "seq": session.seq}
        await ws.send_json({"op": RESUME, "d": resume})
        assert (await ws.receive_json(timeout=CLOSE_WAIT_S))["t"] == "RESUMED"


async def test_a_heartbeating_connection_outlives_a_silent_one(discord_world: DiscordWorld):
    emulator, gateway = discord_world.emulator, discord_world.emulator.core.gateway
    emulator.set_heartbeat(HEARTBEAT_INTERVAL_S)
    acks = 0

    async def heartbeat(ws: aiohttp.ClientWebSocketResponse) -> None:
        nonlocal acks
        while True:  # ten beats an interval: far inside the grace, even on a busy machine
            await ws.send_json({"op": HEARTBEAT, "d": None})
            async with asyncio.timeout(CLOSE_WAIT_S):
                while (await ws.receive_json())["op"] != HEARTBEAT_ACK:
                    pass
            acks += 1
            await asyncio.sleep(HEARTBEAT_INTERVAL_S / 10)

    async with identified(emulator, discord_world.bot.token) as beating:
        beater = asyncio.create_task(heartbeat(beating))
        try:
            async with identified(emulator, discord_world.bot.token) as silent:
                assert await closed_with(silent) == SESSION_TIMED_OUT  # the clock: 1.5 intervals
            assert not beater.done() and not beating.closed and acks > 1
        finally:
            beater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beater
    assert gateway.timeouts == 1
