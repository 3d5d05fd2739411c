"""Message edits per channel and the invalid-request limit, as Discord enforces them."""

from __future__ import annotations

import aiohttp

from meatlizard.dev.discord_emulator.permissions import Permission
from meatlizard.dev.discord_emulator.ratelimit import INVALID_LIMIT, INVALID_WINDOW_S, Limit
from tests.fixtures.discord import DiscordWorld

EDITS_PER_WINDOW = 5


async def test_the_sixth_edit_in_five_seconds_is_refused(discord_world: DiscordWorld) -> None:
    emu = discord_world.emulator
    general = next(iter(discord_world.guild.channels.values()))
    auth = {"Authorization": f"Bot {discord_world.bot.token}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        url = f"{emu.api_url}/channels/{general.id}/messages"
        async with http.post(url, json={"content": "v0"}) as r:
            message_id = (await r.json())["id"]
        statuses = []
        for n in range(EDITS_PER_WINDOW + 1):
            async with http.patch(f"{url}/{message_id}", json={"content": f"v{n + 1}"}) as r:
                statuses.append(r.status)
                last = r
        assert statuses == [200] * EDITS_PER_WINDOW + [429]
        assert last.headers["X-RateLimit-Limit"] == "5" and last.headers["Via"]
    [shown] = emu.history(general)
    assert shown.content == f"v{EDITS_PER_WINDOW}"


async def test_too_many_invalid_requests_get_the_caller_banned(discord_world: DiscordWorld) -> None:
    emu = discord_world.emulator
    assert emu.core.limiter.invalid_limit == Limit(INVALID_LIMIT, INVALID_WINDOW_S)
    emu.core.limiter.invalid_limit = Limit(20, INVALID_WINDOW_S)  # 10,000 scaled down
    auth = {"Authorization": f"Bot {discord_world.bot.token}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        for _ in range(20):
            async with http.get(f"{emu.api_url}/guilds/1/channels") as r:
                assert r.status == 404  # not invalid in Discord's sense: not counted
        async with http.get(f"{emu.api_url}/users/@me") as r:
            assert r.status == 200
        general = next(iter(discord_world.guild.channels.values()))
        for _ in range(20):
            async with http.delete(f"{emu.api_url}/channels/{general.id}") as r:
                assert r.status == 403  # the bot may not manage channels: counted
        async with http.get(f"{emu.api_url}/users/@me") as r:
            assert r.status == 429 and "Via" not in r.headers
            assert await r.text() == "error code: 1015"


async def test_a_third_rename_within_ten_minutes_is_refused(discord_world: DiscordWorld) -> None:
    emu = discord_world.emulator
    manager = emu.create_role(discord_world.guild, "manager", Permission.MANAGE_CHANNELS)
    emu.give_role(discord_world.guild, discord_world.bot, manager)
    channel = emu.create_channel(discord_world.guild, "chat")
    auth = {"Authorization": f"Bot {discord_world.bot.token}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        url = f"{emu.api_url}/channels/{channel.id}"
        for name in ("chat-1", "chat-2"):
            async with http.patch(url, json={"name": name}) as r:
                assert r.status == 200
        async with http.patch(url, json={"name": "chat-3", "topic": "t"}) as r:
            assert r.status == 429 and r.headers["X-RateLimit-Scope"] == "shared"
            assert (await r.json())["retry_after"] > 500
        async with http.patch(url, json={"name": "chat-2", "topic": "same name"}) as r:
            assert r.status == 200  # not a rename: other edits go through
    assert channel.name == "chat-2" and channel.topic == "same name"
