"""The guild's channel budget: archived session channels make room, and go after their retention.

Discord holds at most 500 channels per guild (categories included). Every chat session over
Discord has a channel, so the server-bot keeps the guild under DISCORD_CHANNEL_BUDGET: before a
session channel is created, the oldest archived session channels are deleted to make room (their
transcripts keep the text). Archived channels also go once DISCORD_ARCHIVE_RETENTION_DAYS have
passed since their session ended; an hourly sweep deletes them, and empty archive categories.
A channel's archive time is its session's end, read from the database: it survives restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

import discord
from discord.ext import commands
from sqlalchemy import select

from meatlizard.bots import links
from meatlizard.bots.server import channels
from meatlizard.bots.server.archives import CACHE_WAIT_S, archive_categories, is_session_channel
from meatlizard.chat.discord_channels import DiscordSessionChannel
from meatlizard.chat.models import ChatSession
from meatlizard.core.db import utcnow
from meatlizard.core.errors import Refused
from meatlizard.core.tasks import being_cancelled, cancel_and_wait

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 3600.0


class ChannelBudget:
    """Creates session channels within the budget and deletes archived ones past retention."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self._lock = bot.archives.lock  # no channel deleted twice, no archive moved meanwhile

    async def create_channel(
        self,
        guild: discord.Guild,
        name: str,
        *,
        overwrites: channels.Overwrites,
        topic: str,
        reason: str,
    ) -> discord.TextChannel:
        """Create a session channel, making room first; refuse clearly when there is none."""
        await self.make_room(guild)
        try:
            return await guild.create_text_channel(
                name, overwrites=overwrites, topic=topic, reason=reason
            )
        except discord.HTTPException as exc:
            if not channels.is_channel_limit(exc):
                raise
            await self._refuse(guild)  # Discord's 500, reached despite the budget

    async def make_room(self, guild: discord.Guild) -> None:
        """Delete the oldest archived session channels until one more channel fits the budget."""
        budget = self.bot.settings.discord_channel_budget
        async with self._lock:
            excess = len(guild.channels) + 1 - budget
            if excess <= 0:
                return
            oldest = await self.archived_channels(guild)
            for _, channel in oldest[:excess]:
                await self._delete(channel, reason=f"channel budget of {budget} reached")
            await self._remove_empty_categories(guild)
        if len(guild.channels) + 1 > budget:
            await self._refuse(guild)

    async def sweep(self, *, now: datetime | None = None) -> int:
        """Delete archived session channels past their retention; return how many went."""
        days = self.bot.settings.discord_archive_retention_days
        guild = self.bot.home_guild()
        cutoff = (now or utcnow()) - timedelta(days=days)
        async with self._lock:
            expired = [c for at, c in await self.archived_channels(guild) if days and at <= cutoff]
            for channel in expired:
                await self._delete(channel, reason=f"archived over {days} days ago")
            await self._remove_empty_categories(guild)
        return len(expired)

    async def archived_channels(
        self, guild: discord.Guild
    ) -> list[tuple[datetime, discord.TextChannel]]:
        """Return the archived session channels with their archive times, oldest first."""
        archived = [c for c in guild.text_channels if is_session_channel(c)]
        if not archived:
            return []
        async with self.bot.services.sessions() as db:
            rows = await db.execute(
                select(DiscordSessionChannel.channel_id, ChatSession.ended_at)
                .join(ChatSession, ChatSession.id == DiscordSessionChannel.session_id)
                .where(DiscordSessionChannel.channel_id.in_([str(c.id) for c in archived]))
            )
            ended = {int(channel_id): at for channel_id, at in rows.all()}
        dated = []
        for channel in archived:
            if channel.id not in ended:  # no session on record: its creation is what we know
                dated.append((channel.created_at, channel))
            elif (at := ended[channel.id]) is not None:  # None: the session goes on after all
                dated.append((at, channel))
        return sorted(dated, key=lambda item: (item[0], item[1].id))

    async def _refuse(self, guild: discord.Guild) -> NoReturn:
        """Tell the admins that no chat can start, and the user why."""
        budget = self.bot.settings.discord_channel_budget
        await self.bot.tell_admins(channels.channel_limit_notice(len(guild.channels), budget))
        raise Refused(channels.CHANNEL_LIMIT_USER)

    async def _delete(self, channel: discord.TextChannel, *, reason: str) -> None:
        """Delete an archived channel and its session's link to it."""
        async with self.bot.services.sessions() as db:
            session_id = await links.session_of(db, channel_id=channel.id)
            if session_id is not None:
                await links.forget_channel(db, session_id=session_id)
        with contextlib.suppress(discord.NotFound):  # deleted by hand meanwhile
            await channel.delete(reason=reason)
        await self._gone(channel.guild, channel.id)

    async def _remove_empty_categories(self, guild: discord.Guild) -> None:
        """Delete the archive categories that hold no channel any more."""
        for category in archive_categories(guild):
            if not category.channels:
                with contextlib.suppress(discord.NotFound):
                    await category.delete(reason="empty archive category")
                await self._gone(guild, category.id)

    async def _gone(self, guild: discord.Guild, channel_id: int) -> None:
        """Wait (bounded) until discord.py's cache no longer holds the channel."""
        if guild.get_channel(channel_id) is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.bot.wait_for(
                "guild_channel_delete",
                check=lambda _: guild.get_channel(channel_id) is None,
                timeout=CACHE_WAIT_S,
            )


class ArchiveSweepCog(commands.Cog):
    """Runs the retention sweep at start and then every hour."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def cog_unload(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            try:
                deleted = await self.bot.channel_budget.sweep()
            except Exception:
                if being_cancelled():
                    raise
                log.exception("the sweep of archived session channels failed")
            else:
                if deleted:
                    log.info("deleted %d archived session channels past retention", deleted)
            await asyncio.sleep(SWEEP_INTERVAL_S)
