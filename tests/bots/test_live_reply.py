"""A streamed answer against Discord's edit limit: paced without 429s, and always completed."""

from __future__ import annotations

import asyncio

import discord
from discord.ext import commands

from meatlizard.bots.live import LiveReply
from meatlizard.bots.splitting import split_message
from meatlizard.dev.discord_emulator.ratelimit import MESSAGE_EDIT
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running

TOKEN_GAP_S = 0.01  # tokens arrive about as fast as a GPU writes them
DISCORD_GIVES_UP_AFTER = 5  # discord.py's tries at one request before it raises


def long_answer(chars: int) -> str:
    words = [f"word{n}" + ("\n" if n % 17 == 16 else " ") for n in range(chars)]
    return "".join(words)[:chars]


async def stream(live: LiveReply, text: str, piece: int = 20) -> None:
    for start in range(0, len(text), piece):
        live.append(text[start : start + piece])
        await asyncio.sleep(TOKEN_GAP_S)  # the pace of the token stream being simulated


async def test_a_6000_character_answer_streams_without_a_429(discord_world: DiscordWorld) -> None:
    emu = discord_world.emulator
    general = next(iter(discord_world.guild.channels.values()))
    text = long_answer(6000)
    bot = commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )
    async with running(bot, discord_world.bot.token):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        live = LiveReply(channel)
        await live.start()
        await stream(live, text)
        await live.finish()
    assert live.finished and live.edits > 3
    assert emu.rate_limit_hits == []
    shown = [m.content for m in emu.history(general) if m.author.id == discord_world.bot.id]
    assert len(shown) == len(split_message(text)) and "".join(shown) == text


async def test_finish_completes_the_answer_after_discord_py_gives_up(
    discord_world: DiscordWorld,
) -> None:
    emu = discord_world.emulator
    general = next(iter(discord_world.guild.channels.values()))
    bot = commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )
    async with running(bot, discord_world.bot.token):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        live = LiveReply(channel)
        await live.start()
        emu.set_rate_limit(MESSAGE_EDIT, 0, 0.2)  # a channel so busy that every edit is refused
        live.append("The whole answer.")
        finishing = asyncio.create_task(live.finish(" The end."))

        def refused_edits() -> int:
            return sum(hit.route == MESSAGE_EDIT for hit in emu.rate_limit_hits)

        await emu.wait_until(lambda: refused_edits() > DISCORD_GIVES_UP_AFTER)
        emu.set_rate_limit(MESSAGE_EDIT, 5, 5.0)  # the channel calms down
        await asyncio.wait_for(finishing, 60)
    assert live.finished
    [shown] = [m for m in emu.history(general) if m.author.id == discord_world.bot.id]
    assert shown.content == "The whole answer. The end."
