"""Session channels follow their sessions: archived once ended, deleted once the session is gone.

`/ai end` does this itself. Sessions ended or deleted elsewhere (the web, an admin, an account
deletion) arrive as entries of the `ml:discord:session-events` stream (see
`meatlizard/chat/session_events.py`), read in a consumer group so that what happened while
this bot was offline is done when it returns. At every start a sweep archives the channels
of ended sessions that are not archived yet (the only way without Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands
from sqlalchemy import select

from meatlizard.auth.models import User
from meatlizard.bots import links
from meatlizard.bots.server import channels
from meatlizard.bots.server.web_channels import WEB_CHANNEL_PREFIX
from meatlizard.chat.discord_channels import DiscordSessionChannel
from meatlizard.chat.models import ChatSession
from meatlizard.chat.session_events import GROUP, STREAM, SessionChange, SessionEvent
from meatlizard.core.tasks import being_cancelled, cancel_and_wait

if TYPE_CHECKING:
    import redis.asyncio as redis

    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

# One server-bot serves a guild: a restarted one reads what its predecessor left pending.
CONSUMER = "server-bot"
READ_BLOCK_MS = 1000  # under the connection's read timeout
BATCH = 20
RETRY_SECONDS = 5.0
# An entry that failed this often (e.g. Discord keeps refusing) is dropped, logged, so that
# it does not hold up the others for ever.
MAX_ATTEMPTS = 5
ENDED_NOTICE = "This chat session has ended; the channel is kept read-only."


class SessionChannelsCog(commands.Cog):
    """Archives and deletes session channels when their sessions end or go."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self._listener: asyncio.Task[None] | None = None
        self._failures: dict[bytes, int] = {}

    async def cog_load(self) -> None:
        redis_url = self.bot.settings.redis_url
        if redis_url:
            self._listener = asyncio.create_task(self._listen(redis_url))

    async def cog_unload(self) -> None:
        if self._listener is not None:
            await cancel_and_wait(self._listener)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        try:
            archived = await self.sweep()
        except Exception:
            log.exception("the sweep of ended sessions' channels failed")
        else:
            if archived:
                log.info("archived %d channels of sessions ended meanwhile", archived)

    async def sweep(self) -> int:
        """Archive the channels of ended sessions that are not archived yet; return how many."""
        async with self.bot.services.sessions() as db:
            rows = await db.execute(
                select(DiscordSessionChannel.session_id, DiscordSessionChannel.channel_id)
                .join(ChatSession, ChatSession.id == DiscordSessionChannel.session_id)
                .where(ChatSession.ended_at.is_not(None))
            )
            linked = [(session_id, int(channel_id)) for session_id, channel_id in rows.all()]
        archived = 0
        for session_id, channel_id in linked:
            channel = self.bot.get_channel(channel_id)
            if isinstance(channel, discord.TextChannel) and not channels.is_archived(channel):
                await self.follow(SessionEvent(session_id, SessionChange.ENDED, channel_id))
                archived += 1
        return archived

    async def follow(self, event: SessionEvent) -> None:
        """Archive or delete the event's channel, going by what the database says now."""
        channel = self.bot.get_channel(event.channel_id)
        if not isinstance(channel, discord.TextChannel) or not _names(channel, event.session_id):
            log.info("session %s: no channel %s of its own", event.session_id, event.channel_id)
            return
        async with self.bot.services.sessions() as db:
            session = await db.get(ChatSession, event.session_id)
            if session is None:
                await links.forget_channel(db, session_id=event.session_id)
            elif session.ended_at is None:
                return  # stale news: not ended (any more)
            owner = await db.get(User, session.user_id) if session is not None else None
        if session is None:
            await channel.delete(reason="its chat session was deleted")
            return
        if channels.is_archived(channel):
            return
        member = await _member(channel.guild, owner.discord_id if owner is not None else None)
        if not channel.name.startswith(WEB_CHANNEL_PREFIX):  # web channels carry ML1 frames only
            await channel.send(ENDED_NOTICE)
        await self.bot.archives.archive(channel, owner=member, reason="chat session ended")

    async def _listen(self, redis_url: str) -> None:
        """Follow the stream for good: first what is left pending, then new entries."""
        import redis.asyncio as redis

        from meatlizard.core.redis_client import connect, ensure_group

        await self.bot.wait_until_ready()
        client = connect(redis_url)
        backlog, grouped = True, False
        try:
            while True:
                try:
                    if not grouped:
                        await ensure_group(client, STREAM, GROUP)
                        grouped = True
                    backlog = await self._read(client, backlog=backlog)
                except Exception as exc:  # Redis, Discord or the database: try again later
                    if being_cancelled():  # a library turned the cancellation into an error
                        raise asyncio.CancelledError from exc
                    log.warning("session events: %r; retrying in %.0f s", exc, RETRY_SECONDS)
                    backlog, grouped = True, not isinstance(exc, redis.RedisError)
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            await client.aclose()

    async def _read(self, client: redis.Redis, *, backlog: bool) -> bool:
        """Handle one batch; return whether pending entries may remain."""
        read: Any = await client.xreadgroup(
            GROUP,
            CONSUMER,
            {STREAM: "0" if backlog else ">"},
            count=BATCH,
            block=None if backlog else READ_BLOCK_MS,
        )
        entries = read[0][1] if read else []
        for entry_id, fields in entries:
            await self._handle(client, entry_id, fields)
        return backlog and bool(entries)

    async def _handle(
        self, client: redis.Redis, entry_id: bytes, fields: dict[bytes, bytes] | None
    ) -> None:
        """Do what one entry asks, then acknowledge it; leave it pending if Discord failed."""
        try:
            if fields:  # None: deleted from the stream meanwhile
                await self.follow(SessionEvent.from_fields(fields))
        except ValueError as exc:
            log.warning("dropping session event %s: %s", entry_id, exc)
        except Exception:
            failures = self._failures[entry_id] = self._failures.get(entry_id, 0) + 1
            if failures < MAX_ATTEMPTS:
                raise
            log.exception("giving up on session event %s after %d attempts", entry_id, failures)
        self._failures.pop(entry_id, None)
        await client.xack(STREAM, GROUP, entry_id)
        await client.xdel(STREAM, entry_id)


def _names(channel: discord.TextChannel, session_id: str) -> bool:
    """Return whether the channel is the one created for this session (its topic says so)."""
    return bool(channel.topic) and str(channel.topic).endswith(f" session {session_id}")


async def _member(guild: discord.Guild, discord_id: str | None) -> discord.Member | None:
    """Return the guild member with this id, None when there is none."""
    if not discord_id:
        return None
    member = guild.get_member(int(discord_id))
    if member is None:
        with contextlib.suppress(discord.NotFound):
            member = await guild.fetch_member(int(discord_id))
    return member
