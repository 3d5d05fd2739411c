"""Discord's error JSON for bad tokens, unknown objects and repeated interaction answers."""

from __future__ import annotations

import aiohttp

from meatlizard.dev.discord_emulator import commands
from tests.fixtures.discord import DiscordWorld


async def test_unknown_token_channel_and_route(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    good = {"Authorization": f"Bot {discord_world.bot.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{emulator.api_url}/users/@me", headers={"Authorization": "Bot nope"}
        ) as r:
            assert r.status == 401 and await r.json() == {"message": "401: Unauthorized", "code": 0}
        async with session.get(f"{emulator.api_url}/channels/1", headers=good) as r:
            assert r.status == 404 and await r.json() == {
                "message": "Unknown Channel",
                "code": 10003,
            }
        async with session.get(f"{emulator.api_url}/gateway/bot", headers=good) as r:
            body = await r.json()
            assert body["url"] == emulator.gateway_url and body["shards"] == 1
        async with session.post(
            f"{emulator.api_url}/interactions/1/bad/callback", json={"type": 4}
        ) as r:
            assert r.status == 404 and (await r.json())["code"] == 10062


async def test_second_callback_is_already_acknowledged(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    general = next(iter(discord_world.guild.channels.values()))
    commands.overwrite(
        emulator.core.state, discord_world.bot, None, [{"name": "ping", "description": "Ping"}]
    )
    record, payload = emulator.core.interactions.create(
        discord_world.bot, discord_world.member, general, 2, {"name": "ping", "type": 1}
    )
    assert payload["member"]["user"]["id"] == str(discord_world.member.id)
    assert payload["channel"]["id"] == str(general.id) and payload["version"] == 1
    url = f"{emulator.api_url}/interactions/{record.id}/{record.token}/callback"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"type": 4, "data": {"content": "pong"}}) as r:
            assert r.status == 204
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as r:
            assert r.status == 400 and (await r.json())["code"] == 40060
    assert [m.content for m in emulator.history(general)] == ["pong"]
