"""Discord's 500 channels per guild and 50 per category: archives rotate, expire, make room.

Channels the bots need not make themselves are made through the emulator's state.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from meatlizard.bots import links
from meatlizard.bots.server.archives import ARCHIVE_CATEGORY, MAX_CATEGORY_CHANNELS
from meatlizard.bots.server.channels import CHANNEL_LIMIT_USER, channel_limit_notice
from meatlizard.bots.server.session_channels import SessionChannelsCog
from meatlizard.chat import service as chat_service
from meatlizard.chat.models import ChatSession
from meatlizard.chat.schemas import SessionCreate
from meatlizard.chat.session_events import SessionChange, SessionEvent
from meatlizard.core.db import utcnow
from meatlizard.core.errors import Refused
from meatlizard.dev.discord_emulator.models import GUILD_CATEGORY, Channel, User
from meatlizard.dev.discord_emulator.rest_channels import MAX_GUILD_CHANNELS
from tests.bots.helpers import BotsWorld, general, run, wait_for


async def started(world: BotsWorld, user: User) -> Channel:
    """Start a chat with /ai start and return its channel once the server-bot has it cached."""
    text = await run(world, user, general(world), "ai start")
    found = re.search(r"<#(\d+)>", text)
    assert found, text
    channel_id = int(found[1])

    async def cached() -> bool:
        return world.server.get_channel(channel_id) is not None

    await wait_for(cached)
    return world.guild.channels[channel_id]


async def archived(world: BotsWorld, user: User, *, ended_days_ago: float = 0) -> Channel:
    """Start a chat, end it that many days ago, and let the server-bot archive its channel."""
    channel = await started(world, user)
    assert channel.topic is not None
    session_id = channel.topic.rsplit(" ", 1)[-1]
    async with world.services.sessions() as db:
        session = await db.get(ChatSession, session_id)
        assert session is not None
        session.ended_at = utcnow() - timedelta(days=ended_days_ago)
        await db.commit()
    cog = world.server.get_cog("SessionChannelsCog")
    assert isinstance(cog, SessionChannelsCog)
    await cog.follow(SessionEvent(session_id, SessionChange.ENDED, channel.id))
    assert channel.name.startswith("archived-")
    return channel


async def cached_channel_count(world: BotsWorld, count: int) -> int:
    """Wait until the server-bot's cache holds as many channels as the guild; return it."""

    async def seen() -> bool:
        return len(world.server.home_guild().channels) == count

    await wait_for(seen)
    return count


def category_named(world: BotsWorld, name: str) -> Channel | None:
    return next((c for c in world.guild.channels.values() if c.name == name), None)


async def admins_told(world: BotsWorld, text: str) -> str:
    metrics = next(c for c in world.guild.channels.values() if c.name == "ai-metrics")
    notice = await world.emulator.wait_until(
        lambda: [m for m in world.emulator.history(metrics) if text in m.content]
    )
    assert f"<@&{world.admin_role.id}>" in notice[0].content
    return str(notice[0].content)


async def test_a_full_guild_tells_the_user_and_the_admins(bots_world: BotsWorld) -> None:
    world, emu = bots_world, bots_world.emulator
    while len(world.guild.channels) < MAX_GUILD_CHANNELS:  # Discord's maximum, an old server
        emu.create_channel(world.guild, f"old-{len(world.guild.channels)}")
    await cached_channel_count(world, MAX_GUILD_CHANNELS)
    text = await run(world, world.alice, general(world), "ai start")
    assert text == CHANNEL_LIMIT_USER
    await admins_told(world, channel_limit_notice(MAX_GUILD_CHANNELS, 450))
    async with world.services.sessions() as db:
        assert await db.scalar(select(ChatSession)) is None  # no session without its channel


async def test_archives_rotate_into_a_new_category_past_fifty(bots_world: BotsWorld) -> None:
    world, emu = bots_world, bots_world.emulator
    first = emu.create_channel(world.guild, ARCHIVE_CATEGORY, kind=GUILD_CATEGORY)
    for number in range(MAX_CATEGORY_CHANNELS):  # archived by an earlier run of the bot
        emu.create_channel(world.guild, f"archived-old-{number}", parent=first)
    await cached_channel_count(world, len(world.guild.channels))

    channel = await archived(world, world.alice)
    second = category_named(world, f"{ARCHIVE_CATEGORY} 2")
    assert second is not None and second.type == GUILD_CATEGORY
    assert channel.parent_id == second.id
    assert not emu.core.state.can_view(world.bob.id, second)  # staff only, like the channels
    another = await archived(world, world.bob)
    assert another.parent_id == second.id  # the new category fills before a third is made
    assert category_named(world, f"{ARCHIVE_CATEGORY} 3") is None


async def test_the_sweep_deletes_archives_past_retention_and_keeps_fresh_ones(
    bots_world: BotsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = bots_world
    old = await archived(world, world.alice, ended_days_ago=31)
    fresh = await archived(world, world.bob, ended_days_ago=1)
    category = category_named(world, ARCHIVE_CATEGORY)
    assert category is not None and old.parent_id == fresh.parent_id == category.id
    budget = world.server.channel_budget

    assert await budget.sweep() == 1  # DISCORD_ARCHIVE_RETENTION_DAYS defaults to 30
    assert old.id not in world.guild.channels and fresh.id in world.guild.channels
    async with world.services.sessions() as db:
        assert await links.session_of(db, channel_id=old.id) is None
        assert await links.session_of(db, channel_id=fresh.id) is not None
    assert category.id in world.guild.channels  # it still holds the fresh one

    monkeypatch.setattr(world.server.settings, "discord_archive_retention_days", 0)
    assert await budget.sweep(now=utcnow() + timedelta(days=3650)) == 0  # 0: kept for ever
    monkeypatch.setattr(world.server.settings, "discord_archive_retention_days", 30)
    assert await budget.sweep(now=utcnow() + timedelta(days=30)) == 1
    assert fresh.id not in world.guild.channels
    assert category.id not in world.guild.channels  # an empty archive category goes too
    assert general(world).id in world.guild.channels  # nothing else is touched


async def test_the_budget_deletes_the_oldest_archives_to_make_room(
    bots_world: BotsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = bots_world
    oldest = await archived(world, world.alice, ended_days_ago=3)
    newer = await archived(world, world.bob, ended_days_ago=2)
    count = await cached_channel_count(world, len(world.guild.channels))
    monkeypatch.setattr(world.server.settings, "discord_channel_budget", count)

    channel = await started(world, world.admin)
    assert channel.name.startswith("ai-")
    assert oldest.id not in world.guild.channels and newer.id in world.guild.channels
    assert len(world.guild.channels) == count


async def test_the_budget_with_nothing_to_delete_refuses_clearly(
    bots_world: BotsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = bots_world
    await started(world, world.alice)  # a running chat's channel is never deleted
    count = await cached_channel_count(world, len(world.guild.channels))
    monkeypatch.setattr(world.server.settings, "discord_channel_budget", count)

    text = await run(world, world.bob, general(world), "ai start")
    assert text == CHANNEL_LIMIT_USER
    await admins_told(world, channel_limit_notice(count, count))
    assert len(world.guild.channels) == count

    async with world.services.sessions() as db:  # a web chat relayed over Discord: the same
        user = await links.account_for_discord(db, discord_id=world.bob.id)
        inference = world.services.inference
        session = await chat_service.create_session(
            db,
            user=user,
            data=SessionCreate(),
            aliases=inference.aliases,
            default_alias=inference.default_alias,
        )
    with pytest.raises(Refused, match=re.escape(CHANNEL_LIMIT_USER)):
        await world.server.web_channels.channel_for(session.id)
    assert len(world.guild.channels) == count
