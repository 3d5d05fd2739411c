"""The server-bot: a discord.py Bot that owns the services, the relay and the session channels."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands
from pydantic import BaseModel

from meatlizard.bots import GUILD_READY_TIMEOUT_S
from meatlizard.bots.frames import RelayOutbox
from meatlizard.bots.server import channels
from meatlizard.bots.server.archives import Archives
from meatlizard.bots.server.channel_budget import ArchiveSweepCog, ChannelBudget
from meatlizard.bots.server.web_channels import WebSessionChannels
from meatlizard.bots.web_relay import DiscordWebRelay
from meatlizard.relay.discord_gateway import DiscordRelayGateway
from meatlizard.relay.wire import PayloadSealer
from meatlizard.runtime import Services

log = logging.getLogger(__name__)


class ServerBot(commands.Bot):
    """Slash commands, session channels, and the Discord end of the inference link."""

    def __init__(
        self,
        *,
        services: Services,
        relay: DiscordRelayGateway,
        sealer: PayloadSealer,
        web_relay: DiscordWebRelay | None = None,
        guild_ready_timeout: float = GUILD_READY_TIMEOUT_S,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            guild_ready_timeout=guild_ready_timeout,
        )
        settings = services.settings
        assert settings.discord_guild_id and settings.admin_role_id and settings.client_bot_user_id
        self.services = services
        self.settings = settings
        self.relay = relay
        self.sealer = sealer
        self.outbox = RelayOutbox()
        self.guild_id = settings.discord_guild_id
        self.admin_role_id = settings.admin_role_id
        self.client_bot_id = settings.client_bot_user_id
        self.metrics_channel_id = settings.metrics_channel_id
        self.transcript_channel_id = settings.transcript_channel_id
        self.relay_channel_id: int | None = None
        # Web chats (INFERENCE=remote) answered through the client-bot; None without Redis.
        self.web_relay = web_relay
        self.web_channels = WebSessionChannels(self)
        self.archives = Archives(self)
        self.channel_budget = ChannelBudget(self)
        self._web_task: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        """Load one cog per command group and sync the commands to the guild."""
        from meatlizard.bots.server.admin_cog import AdminCog
        from meatlizard.bots.server.ai_cog import AiCog
        from meatlizard.bots.server.chat_cog import ChatCog
        from meatlizard.bots.server.relay_cog import RelayCog
        from meatlizard.bots.server.session_channels import SessionChannelsCog

        guild = discord.Object(self.guild_id)
        await self.add_cog(AiCog(self), guild=guild)
        await self.add_cog(AdminCog(self), guild=guild)
        await self.add_cog(ChatCog(self))
        await self.add_cog(RelayCog(self))
        await self.add_cog(SessionChannelsCog(self))
        await self.add_cog(ArchiveSweepCog(self))
        await self.tree.sync(guild=guild)
        self.relay.attach(self.send_payload)
        if self.web_relay is not None:
            self.web_relay.attach(self.send_web_payload)
            self._web_task = asyncio.create_task(self.web_relay.run())

    async def on_ready(self) -> None:
        """Create #ai-relay, #ai-metrics and #ai-transcripts when they are missing."""
        guild = self.home_guild()
        missing = channels.missing_permissions(guild.me)
        if missing:
            log.error(
                "the server-bot's role lacks %s in guild %s; see docs/deployment.md",
                ", ".join(missing),
                guild.id,
            )
        staff = channels.staff_overwrites(
            guild, client_bot_id=self.client_bot_id, admin_role_id=self.admin_role_id
        )
        # #ai-relay first: the client-bot comes online by posting in #ai-metrics, and the
        # first request after that goes to #ai-relay.
        if self.relay_channel_id is None:
            found = await channels.ensure_channel(guild, channels.RELAY_CHANNEL, staff)
            self.relay_channel_id = found.id
        if self.metrics_channel_id is None:
            found = await channels.ensure_channel(guild, channels.METRICS_CHANNEL, staff)
            self.metrics_channel_id = found.id
        if self.transcript_channel_id is None:
            found = await channels.ensure_channel(guild, channels.TRANSCRIPTS_CHANNEL, staff)
            self.transcript_channel_id = found.id
        log.info("server-bot ready in guild %s", guild.id)

    def home_guild(self) -> discord.Guild:
        """Return the configured guild (DISCORD_GUILD_ID)."""
        guild = self.get_guild(self.guild_id)
        if guild is None:
            raise LookupError(f"the bot is not a member of DISCORD_GUILD_ID {self.guild_id}")
        return guild

    async def tell_admins(self, text: str) -> None:
        """Post a notice for the admin role in #ai-metrics (logged when that fails)."""
        log.warning("%s", text)
        channel = self.get_channel(self.metrics_channel_id or 0)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await channel.send(
                f"<@&{self.admin_role_id}> {text}",
                allowed_mentions=discord.AllowedMentions(roles=True),
            )
        except discord.HTTPException as exc:
            log.warning("could not tell the admins: %s", exc)

    def is_admin(self, member: discord.abc.User) -> bool:
        """Return whether a guild member holds the admin role."""
        roles = getattr(member, "roles", [])
        return any(role.id == self.admin_role_id for role in roles)

    def relay_channel(self) -> discord.TextChannel:
        """Return #ai-relay, which only both bots and the admin role see."""
        channel = self.get_channel(self.relay_channel_id or 0)
        if not isinstance(channel, discord.TextChannel):
            raise LookupError("#ai-relay is not ready")
        return channel

    async def send_payload(self, session_id: str, payload: BaseModel) -> None:
        """Seal a Discord chat's payload and queue it in #ai-relay, out of its user's sight."""
        self.outbox.put(self.relay_channel(), self.sealer.seal(payload))

    async def send_web_payload(self, session_id: str, payload: BaseModel) -> None:
        """Seal a web chat's payload and queue it in its audit channel (created when missing)."""
        channel = await self.web_channels.relay_channel_for(session_id)
        self.outbox.put(channel, self.sealer.seal(payload))

    async def close(self) -> None:
        """Interrupt Discord answers, leave the request stream, send what is queued, disconnect."""
        from meatlizard.bots.server.chat_cog import ChatCog

        chat = self.get_cog("ChatCog")
        if isinstance(chat, ChatCog):
            await chat.interrupt()  # before the outbox closes: the cancels must go out
        if self.web_relay is not None and self._web_task is not None:
            self.web_relay.stop()
            self._web_task.cancel()  # a request in flight is taken over by the group
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._web_task
        await self.outbox.close()
        await super().close()
