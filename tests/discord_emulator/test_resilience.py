"""Rate limits and gateway drops: discord.py waits out 429s and RESUMEs missed events."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
from discord.ext import commands

from meatlizard.dev.discord_emulator import MESSAGE_CREATE
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running

BURST = 6


def make_bot() -> commands.Bot:
    return commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )


async def test_burst_from_two_bots_gets_429s_and_every_message_lands(discord_world: DiscordWorld):
    emulator, guild = discord_world.emulator, discord_world.guild
    emulator.set_rate_limit(MESSAGE_CREATE, limit=2, per=0.3, shared=True)
    other_app = emulator.create_bot("client-bot")
    emulator.add_member(guild, other_app)
    general = next(iter(guild.channels.values()))
    first, second = make_bot(), make_bot()
    async with running(first, discord_world.bot.token), running(second, other_app.token):
        sends = [
            bot.get_channel(general.id).send(f"{name}-{i}")  # type: ignore[union-attr]
            for name, bot in (("a", first), ("b", second))
            for i in range(BURST)
        ]
        await asyncio.gather(*sends)
    contents = sorted(m.content for m in emulator.history(general))
    assert contents == sorted(f"{n}-{i}" for n in "ab" for i in range(BURST))
    assert emulator.rate_limit_hits, "the shared channel limit never answered 429"
    assert {hit.scope for hit in emulator.rate_limit_hits} == {"shared"}


async def test_429_has_discords_headers_and_body(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    emulator.set_rate_limit(MESSAGE_CREATE, limit=1, per=60.0)
    general = next(iter(discord_world.guild.channels.values()))
    url = f"{emulator.api_url}/channels/{general.id}/messages"
    headers = {"Authorization": f"Bot {discord_world.bot.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(url, json={"content": "one"}) as ok:
            assert ok.status == 200
            assert ok.headers["X-RateLimit-Limit"] == "1"
            assert ok.headers["X-RateLimit-Remaining"] == "0"
            assert float(ok.headers["X-RateLimit-Reset-After"]) > 0
            assert float(ok.headers["X-RateLimit-Reset"]) > 1_600_000_000
            bucket = ok.headers["X-RateLimit-Bucket"]
        async with session.post(url, json={"content": "two"}) as limited:
            assert limited.status == 429
            assert limited.headers["Content-Type"] == "application/json"
            assert int(limited.headers["Retry-After"]) >= 1
            assert limited.headers["X-RateLimit-Scope"] == "user"
            assert limited.headers["X-RateLimit-Bucket"] == bucket
            body = await limited.json()
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert 0 < body["retry_after"] <= 60
    assert [m.content for m in emulator.history(general)] == ["one"]


async def test_dropped_gateway_resumes_and_replays_missed_events(discord_world: DiscordWorld):
    emulator, gateway = discord_world.emulator, discord_world.emulator.core.gateway
    general = next(iter(discord_world.guild.channels.values()))
    seen: asyncio.Queue[discord.Message] = asyncio.Queue()
    resumed = asyncio.Event()
    bot = make_bot()
    bot.add_listener(seen.put, "on_message")

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed, "on_resumed")
    async with running(bot, discord_world.bot.token):
        assert await emulator.drop_gateway(discord_world.bot) == 1
        missed = [
            emulator.post_message(general, discord_world.member, f"missed {i}") for i in range(3)
        ]
        await resumed.wait()
        received = [await seen.get() for _ in missed]
        assert [m.id for m in received] == [m.id for m in missed]
        live = emulator.post_message(general, discord_world.member, "after")
        assert (await seen.get()).id == live.id
    assert (gateway.identifies, gateway.resumes) == (1, 1)


async def test_invalid_session_makes_discord_py_identify_again(discord_world: DiscordWorld):
    emulator, gateway = discord_world.emulator, discord_world.emulator.core.gateway
    general = next(iter(discord_world.guild.channels.values()))
    bot = make_bot()
    async with running(bot, discord_world.bot.token):
        emulator.invalidate_session(discord_world.bot)
        await emulator.wait_until(
            lambda: gateway.identifies == 2 and gateway.live_sessions(discord_world.bot)
        )
        session = gateway.live_sessions(discord_world.bot)[0]
        await emulator.wait_until(lambda: session.connection is not None)
        message = emulator.post_message(general, discord_world.member, "still here")
        received = await bot.wait_for("message", check=lambda m: m.id == message.id)
        assert received.content == "still here"
    assert gateway.resumes == 0
