"""Messages from discord.py: send, edit, history, attachments and DMs."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running


def make_bot() -> commands.Bot:
    return commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )


async def test_send_edit_delete_and_history(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    general_record = next(iter(discord_world.guild.channels.values()))
    bot = make_bot()
    async with running(bot, discord_world.bot.token):
        channel = bot.get_channel(general_record.id)
        assert isinstance(channel, discord.TextChannel)
        first = await channel.send("first", embed=discord.Embed(title="Metrics"))
        second = await channel.send("second")
        edited = await first.edit(content="first, edited")
        assert edited.content == "first, edited" and edited.edited_at is not None
        history = [m.content async for m in channel.history(limit=10)]
        assert history == ["second", "first, edited"]
        assert [m.content async for m in channel.history(limit=10, oldest_first=True)] == [
            "first, edited",
            "second",
        ]
        fetched = await channel.fetch_message(first.id)
        assert fetched.embeds[0].title == "Metrics"
        await second.delete()
        with pytest.raises(discord.NotFound) as gone:
            await channel.fetch_message(second.id)
        assert gone.value.code == 10008
        with pytest.raises(discord.HTTPException) as empty:
            await channel.send("")
        assert empty.value.code == 50006
        with pytest.raises(discord.HTTPException) as long:
            await channel.send("x" * 2001)
        assert long.value.code == 50035
    [kept] = emulator.history(general_record)
    assert kept.content == "first, edited" and kept.edits == ["first"]


async def test_attachments_round_trip_through_the_emulator(discord_world: DiscordWorld):
    general_record = next(iter(discord_world.guild.channels.values()))
    payload = bytes(range(256)) * 40
    bot = make_bot()
    async with running(bot, discord_world.bot.token):
        channel = bot.get_channel(general_record.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send(
            "transcript", files=[discord.File(io.BytesIO(payload), "transcript.json")]
        )
        [attachment] = sent.attachments
        assert attachment.filename == "transcript.json" and attachment.size == len(payload)
        assert attachment.url.startswith(discord_world.emulator.url)
        assert await attachment.read() == payload
        async with aiohttp.ClientSession() as session, session.get(attachment.url) as response:
            assert response.status == 200 and await response.read() == payload
        kept = await sent.edit(content="kept", attachments=[attachment])
        assert [a.id for a in kept.attachments] == [attachment.id]
        dropped = await sent.edit(attachments=[])
        assert dropped.attachments == []
    assert discord_world.emulator.history(general_record)[0].attachments == []


async def test_dm_channel_and_dm_refused_to_a_stranger(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    stranger = emulator.create_user("stranger")
    bot = make_bot()
    async with running(bot, discord_world.bot.token):
        alice = await bot.fetch_user(discord_world.member.id)
        sent = await alice.send("your transcript link")
        assert isinstance(sent.channel, discord.DMChannel)
        dm_record = emulator.core.state.channels[sent.channel.id]
        assert {u.id for u in dm_record.recipients} == {alice.id, bot.user.id}
        again = await alice.create_dm()
        assert again.id == sent.channel.id
        reply = emulator.post_message(dm_record, discord_world.member, "thanks")
        received = await bot.wait_for("message", check=lambda m: m.id == reply.id)
        assert isinstance(received.channel, discord.DMChannel) and received.content == "thanks"
        with pytest.raises(discord.Forbidden) as refused:
            await (await bot.fetch_user(stranger.id)).send("hi")
        assert refused.value.code == 50007
    assert [m.content for m in emulator.history(dm_record)] == ["your transcript link", "thanks"]
