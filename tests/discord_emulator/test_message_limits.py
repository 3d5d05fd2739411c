"""Embed sizes, files per request and blank messages, refused as Discord refuses them."""

from __future__ import annotations

import io

import discord
import pytest
from discord.ext import commands

from meatlizard.dev.discord_emulator.limits import REQUEST_FILE_BYTES
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running

FILE_BYTES = 9 * 1024 * 1024  # under the 10 MiB per-file limit


async def test_embed_file_and_blank_limits(discord_world: DiscordWorld) -> None:
    emu = discord_world.emulator
    general = next(iter(discord_world.guild.channels.values()))
    bot = commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )
    async with running(bot, discord_world.bot.token):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        refused = [
            discord.Embed(description="d" * 4097),
            discord.Embed(title="t" * 257),
            discord.Embed(description="d" * 4000)
            .add_field(name="n", value="v" * 1024)
            .add_field(name="n", value="v" * 1024),  # 6050 characters in all
        ]
        many = discord.Embed(title="fields")
        for n in range(26):
            many.add_field(name=str(n), value="v")
        for embed in [*refused, many]:
            with pytest.raises(discord.HTTPException) as error:
                await channel.send(embed=embed)
            assert error.value.code == 50035
        await channel.send(embed=discord.Embed(description="d" * 4096))  # exactly at the limits
        files = [
            discord.File(io.BytesIO(bytes(FILE_BYTES)), filename=f"part{n}.bin") for n in range(3)
        ]
        assert 3 * FILE_BYTES > REQUEST_FILE_BYTES
        with pytest.raises(discord.HTTPException) as too_big:
            await channel.send(files=files)
        assert too_big.value.status == 413 and too_big.value.code == 40005
        for blank in (" ", "\n\t "):
            with pytest.raises(discord.HTTPException) as empty:
                await channel.send(blank)
            assert empty.value.code == 50006
    shown = emu.history(general)
    assert len(shown) == 1 and len(shown[0].embeds[0]["description"]) == 4096
