"""Archived session channels: kept read-only in archive categories that rotate at Discord's 50.

"Archived chats" fills first, then "Archived chats 2", "Archived chats 3", ... An archive never
fails because a category is full: a full one is skipped, and should no category be possible
(the guild at Discord's 500), the channel is archived where it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord

from meatlizard.bots.server import channels

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

ARCHIVE_CATEGORY = "Archived chats"
MAX_CATEGORY_CHANNELS = 50  # Discord's maximum of channels in one category
# How long to wait for the gateway to bring a change into discord.py's cache.
CACHE_WAIT_S = 5.0
# A category may fill between our look and the move (another archive, an admin): try the next.
MOVE_ATTEMPTS = 3


def category_number(name: str) -> int | None:
    """Return 1 for "Archived chats", n for "Archived chats n", None for other names."""
    if name == ARCHIVE_CATEGORY:
        return 1
    rest = name.removeprefix(f"{ARCHIVE_CATEGORY} ")
    return int(rest) if rest != name and rest.isdigit() else None


def archive_categories(guild: discord.Guild) -> list[discord.CategoryChannel]:
    """Return the guild's archive categories, in the order they fill."""
    numbered = [(category_number(c.name), c.id, c) for c in guild.categories]
    return [c for number, _, c in sorted((n, i, c) for n, i, c in numbered if n is not None)]


def is_session_channel(channel: discord.abc.GuildChannel) -> bool:
    """Return whether the channel is an archived chat session's channel."""
    topic = getattr(channel, "topic", None) or ""
    return (
        isinstance(channel, discord.TextChannel)
        and channels.is_archived(channel)
        and topic.startswith("MeatLizard ")
        and " session " in topic
    )


class Archives:
    """Moves ended sessions' channels into archive categories, one archive at a time."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        # Two archives must not both create "Archived chats n", nor may a sweep delete a new,
        # still empty category before the channel moves in: one change to archives at a time.
        self.lock = asyncio.Lock()

    async def archive(
        self, channel: discord.TextChannel, *, owner: discord.Member | None, reason: str
    ) -> None:
        """Keep the channel read-only for its owner, renamed and moved into an archive category."""
        if owner is not None:
            await channel.set_permissions(owner, overwrite=channels.READ_ONLY, reason=reason)
        if channels.is_archived(channel):
            return
        name = f"{channels.ARCHIVED_PREFIX}{channel.name}"[:100]
        async with self.lock:
            full: set[int] = set()  # categories Discord found full although the cache did not
            for _ in range(MOVE_ATTEMPTS):
                category = await self._category_with_room(channel.guild, full)
                if category is None:
                    break
                try:
                    await channel.edit(name=name, category=category, reason=reason)
                except discord.HTTPException as exc:
                    if not channels.is_channel_limit(exc):
                        raise
                    full.add(category.id)
                    continue
                await self._cached(channel.guild, channel.id, category.id)
                return
        await channel.edit(name=name, reason=reason)  # no category possible: archive in place

    async def _category_with_room(
        self, guild: discord.Guild, full: set[int]
    ) -> discord.CategoryChannel | None:
        """Return the first archive category with room, creating the next one when all are full."""
        categories = archive_categories(guild)
        for category in categories:
            if category.id not in full and len(category.channels) < MAX_CATEGORY_CHANNELS:
                return category
        numbers = [category_number(c.name) or 1 for c in categories]
        name = f"{ARCHIVE_CATEGORY} {max(numbers) + 1}" if numbers else ARCHIVE_CATEGORY
        bot = self.bot
        overwrites = channels.staff_overwrites(
            guild, client_bot_id=bot.client_bot_id, admin_role_id=bot.admin_role_id
        )
        try:
            created = await guild.create_category(
                name, overwrites=overwrites, reason="archive of ended chat sessions"
            )
        except discord.HTTPException as exc:
            if not channels.is_channel_limit(exc):
                raise
            log.warning("no room for archive category %r: %s", name, exc)
            return None
        await self._cached(guild, created.id, None)
        found = guild.get_channel(created.id)
        return found if isinstance(found, discord.CategoryChannel) else created

    async def _cached(self, guild: discord.Guild, channel_id: int, parent_id: int | None) -> None:
        """Wait (bounded) until discord.py's cache shows the channel, in its category if given."""

        def shown() -> bool:
            found = guild.get_channel(channel_id)
            return found is not None and (parent_id is None or found.category_id == parent_id)

        if shown():
            return
        event = "guild_channel_create" if parent_id is None else "guild_channel_update"
        with contextlib.suppress(TimeoutError):
            await self.bot.wait_for(event, check=lambda *_: shown(), timeout=CACHE_WAIT_S)
