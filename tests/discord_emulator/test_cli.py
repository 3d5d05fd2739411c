"""`meatlizard dev discord-emulator` serves a seeded emulator that discord.py can log in to."""

from __future__ import annotations

import asyncio
import contextlib

import discord

from meatlizard.bots.server.channels import SERVER_BOT_PERMISSIONS
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.cli import seed, serve
from meatlizard.dev.discord_emulator.permissions import DEFAULT_EVERYONE
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, intents, running


async def test_seeded_world_lets_both_bots_log_in(discord_emulator: DiscordEmulator):
    settings = seed(discord_emulator)
    assert settings["DISCORD_API_BASE"] == discord_emulator.api_url
    for name, held in (
        ("SERVER_BOT_TOKEN", SERVER_BOT_PERMISSIONS),
        ("CLIENT_BOT_TOKEN", discord.Permissions(DEFAULT_EVERYONE)),
    ):
        client = discord.Client(intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S)
        async with running(client, settings[name]):
            guild = client.get_guild(int(settings["DISCORD_GUILD_ID"]))
            assert guild is not None and not guild.me.guild_permissions.administrator
            assert guild.me.guild_permissions >= held  # the documented least-privilege role


async def test_serve_prints_the_settings_and_stops_when_cancelled():
    lines: list[str] = []
    printed = asyncio.Event()

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("ADMIN_ROLE_ID="):
            printed.set()

    task = asyncio.create_task(serve("127.0.0.1", 0, echo))
    await printed.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert lines[0].startswith("Discord emulator listening on http://127.0.0.1:")
    assert {line.split("=")[0] for line in lines[1:]} == {
        "DISCORD_API_BASE",
        "DISCORD_GATEWAY_URL",
        "SERVER_BOT_TOKEN",
        "CLIENT_BOT_TOKEN",
        "SERVER_BOT_USER_ID",
        "CLIENT_BOT_USER_ID",
        "DISCORD_GUILD_ID",
        "ADMIN_ROLE_ID",
    }
