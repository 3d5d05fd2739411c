"""discord.py connects to the emulator's gateway: READY, GUILD_CREATE, events and RESUME."""

from __future__ import annotations

import asyncio

import discord
from discord.ext import commands

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
