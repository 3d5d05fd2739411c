"""The Discord channel of a web chat session: where its bot-to-bot traffic is kept for audit.

A session of a web user linked to Discord gets a channel its user sees (they may go on
chatting there); its bot-to-bot traffic goes to #ai-relay instead, as a Discord chat's does.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord

from meatlizard.auth.models import User
from meatlizard.bots import links
from meatlizard.bots.server import channels
from meatlizard.chat.models import ChatSession

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

WEB_CHANNEL_PREFIX = "ai-web-"


class WebSessionChannels:
    """Finds or creates the private channel of a session started on the web."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self._locks: dict[str, asyncio.Lock] = {}

    async def channel_for(self, session_id: str) -> discord.TextChannel:
        """Return the session's channel, creating it on the session's first request."""
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            async with self.bot.services.sessions() as db:
                channel_id = await links.channel_of(db, session_id=session_id)
            if channel_id is not None:
                found = self.bot.get_channel(channel_id)
                if isinstance(found, discord.TextChannel):
                    return found
                async with self.bot.services.sessions() as db:  # deleted by hand meanwhile
                    await links.forget_channel(db, session_id=session_id)
            return await self._create(session_id)

    async def relay_channel_for(self, session_id: str) -> discord.TextChannel:
        """Return where its payloads go: its channel if only staff see it, else #ai-relay."""
        channel = await self.channel_for(session_id)
        bot = self.bot
        if channels.is_staff_only(
            channel, client_bot_id=bot.client_bot_id, admin_role_id=bot.admin_role_id
        ):
            return channel
        return bot.relay_channel()

    async def _create(self, session_id: str) -> discord.TextChannel:
        bot, guild = self.bot, self.bot.home_guild()
        async with bot.services.sessions() as db:
            session = await db.get(ChatSession, session_id)
            if session is None:
                raise LookupError(f"no chat session {session_id}")
            owner = await db.get(User, session.user_id)
            discord_id = owner.discord_id if owner is not None else None
        if discord_id:
            # The user's own channel, where they may go on chatting; its relay goes to #ai-relay.
            overwrites = channels.session_overwrites(
                guild,
                int(discord_id),
                client_bot_id=bot.client_bot_id,
                admin_role_id=bot.admin_role_id,
            )
        else:
            overwrites = channels.staff_overwrites(
                guild, client_bot_id=bot.client_bot_id, admin_role_id=bot.admin_role_id
            )
        channel = await bot.channel_budget.create_channel(
            guild,
            f"{WEB_CHANNEL_PREFIX}{session_id[:8]}",
            overwrites=overwrites,
            topic=f"MeatLizard web chat session {session_id}",
            reason="web chat relayed over Discord",
        )
        try:
            async with bot.services.sessions() as db:
                await links.remember_channel(
                    db, session_id=session_id, channel_id=channel.id, guild_id=guild.id
                )
        except Exception:
            await channel.delete(reason="the session's channel could not be recorded")
            raise
        return channel
