"""Private channels with overwrites, created by one bot and enforced against another."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord.ext import commands

from meatlizard.dev.discord_emulator import ApiError, Overwrite, Permission
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, DiscordWorld, intents, running


def make_bot() -> commands.Bot:
    return commands.Bot(
        command_prefix="!", intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT_S
    )


async def test_private_channel_hides_from_other_bot_and_enforces_send(discord_world: DiscordWorld):
    emulator, world_guild = discord_world.emulator, discord_world.guild
    manager = emulator.create_role(
        world_guild, "manager", Permission.MANAGE_CHANNELS | Permission.MANAGE_ROLES
    )
    emulator.give_role(world_guild, discord_world.bot, manager)
    other_app = emulator.create_bot("client-bot")
    emulator.add_member(world_guild, other_app)
    created: asyncio.Queue[discord.abc.GuildChannel] = asyncio.Queue()
    server, other = make_bot(), make_bot()
    other.add_listener(created.put, "on_guild_channel_create")
    async with running(server, discord_world.bot.token), running(other, other_app.token):
        guild = server.get_guild(world_guild.id)
        assert guild is not None
        alice = guild.get_member(discord_world.member.id)
        assert alice is not None and guild.me is not None
        private = await guild.create_text_channel(
            "Session 1",
            overwrites={
                guild.default_role: discord.PermissionOverwrite(view_channel=False),
                alice: discord.PermissionOverwrite(view_channel=True, send_messages=True),
                guild.me: discord.PermissionOverwrite(view_channel=True, send_messages=True),
            },
        )
        assert private.name == "session-1"
        assert private.overwrites_for(alice).view_channel is True
        await private.send("only for alice")

        seen = await created.get()  # CHANNEL_CREATE reaches the other bot too
        assert seen.id == private.id
        as_other = other.get_channel(private.id)
        assert isinstance(as_other, discord.TextChannel)
        assert not as_other.permissions_for(as_other.guild.me).view_channel
        with pytest.raises(discord.Forbidden) as hidden:
            await as_other.send("let me in")
        assert hidden.value.status == 403 and hidden.value.code == 50001
        with pytest.raises(discord.Forbidden) as history:
            await as_other.fetch_message(private.last_message_id or 0)
        assert history.value.code == 50001

        # Allowed to see but not to talk: 50013 Missing Permissions.
        member = guild.get_member(other_app.bot.id)
        assert member is not None
        await private.set_permissions(member, view_channel=True, send_messages=False)
        with pytest.raises(discord.Forbidden) as muted:
            await as_other.send("still no")
        assert muted.value.code == 50013
        await private.set_permissions(member, overwrite=None)
        with pytest.raises(discord.Forbidden):
            await as_other.send("no again")

        # The other bot cannot manage channels at all.
        with pytest.raises(discord.Forbidden) as manage:
            await as_other.guild.create_text_channel("sneaky")
        assert manage.value.code == 50013

        record = emulator.core.state.channels[private.id]
        await private.edit(name="Session 1 renamed", topic="chat")
        assert (record.name, record.topic) == ("session-1-renamed", "chat")
        await private.delete()
    assert private.id not in emulator.core.state.channels
    assert [m.content for m in emulator.history(record)] == ["only for alice"]


async def test_user_without_view_cannot_post_and_bots_do_not_see_hidden_messages(
    discord_world: DiscordWorld,
):
    emulator, guild = discord_world.emulator, discord_world.guild
    hidden = emulator.create_channel(
        guild,
        "staff",
        overwrites=[Overwrite(guild.id, 0, deny=Permission.VIEW_CHANNEL)],
    )
    with pytest.raises(ApiError) as refused:
        emulator.post_message(hidden, discord_world.member, "hi")
    assert refused.value.code == 50001
    seen: asyncio.Queue[discord.Message] = asyncio.Queue()
    bot = make_bot()
    bot.add_listener(seen.put, "on_message")
    general = next(iter(guild.channels.values()))
    async with running(bot, discord_world.bot.token):
        emulator.post_message(hidden, discord_world.owner, "secret")
        emulator.post_message(general, discord_world.owner, "public")
        assert (await seen.get()).content == "public"


async def test_the_501st_channel_and_a_categorys_51st_are_refused(discord_world: DiscordWorld):
    emulator, world_guild = discord_world.emulator, discord_world.guild
    manager = emulator.create_role(
        world_guild, "manager", Permission.MANAGE_CHANNELS | Permission.MANAGE_ROLES
    )
    emulator.give_role(world_guild, discord_world.bot, manager)
    server = make_bot()
    async with running(server, discord_world.bot.token):
        guild = server.get_guild(world_guild.id)
        assert guild is not None
        category = await guild.create_category("archive")
        for n in range(50):
            await category.create_text_channel(f"old-{n}")
        with pytest.raises(discord.HTTPException) as full_category:
            await category.create_text_channel("old-50")
        assert full_category.value.code == 50035
        assert "Maximum number of channels in category reached (50)" in full_category.value.text
        while len(world_guild.channels) < 500:  # created as an admin would, without REST
            emulator.create_channel(world_guild, f"filler-{len(world_guild.channels)}")
        with pytest.raises(discord.HTTPException) as full_guild:
            await guild.create_text_channel("one-too-many")
        assert full_guild.value.code == 30013
    assert len(world_guild.channels) == 500
