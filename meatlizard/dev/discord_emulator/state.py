"""Everything the emulator knows, with lookups that fail the way Discord's API does."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.errors import ApiError
from meatlizard.dev.discord_emulator.guild import Guild
from meatlizard.dev.discord_emulator.message import Attachment, Message
from meatlizard.dev.discord_emulator.models import DM, Application, Channel, User
from meatlizard.dev.discord_emulator.permissions import Permission

CDN_SEED = 1815


@dataclass
class State:
    """Users, applications, guilds, channels, messages and files held in memory."""

    base_url: str = ""
    users: dict[int, User] = field(default_factory=dict)
    apps: dict[int, Application] = field(default_factory=dict)
    tokens: dict[str, Application] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, dict[int, Message]] = field(default_factory=dict)
    attachments: dict[int, Attachment] = field(default_factory=dict)
    # (application id, guild id or None for global) -> command id -> command object
    commands: dict[tuple[int, int | None], dict[int, dict[str, Any]]] = field(default_factory=dict)

    # Attachment downloads from the CDN take 0-1.5 s, drawn from a seeded generator so a
    # failing order of arrivals can be replayed (cdn_latency_s = (0, 0) turns it off).
    cdn_latency_s: tuple[float, float] = (0.0, 1.5)
    cdn_random: random.Random = field(default_factory=lambda: random.Random(CDN_SEED))

    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def notify(self) -> None:
        """Wake whoever waits in the test-control API for a change."""
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    @property
    def api_url(self) -> str:
        """Return the REST base that discord.py's Route.BASE should point at."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Return the gateway WebSocket URL (also used as resume_gateway_url)."""
        return self.base_url.replace("http", "ws", 1) + "/gateway"

    def guilds_of(self, user_id: int) -> list[Guild]:
        """Return the guilds the user is a member of."""
        return [g for g in self.guilds.values() if user_id in g.members]

    def user(self, user_id: int | str) -> User:
        """Return a user or raise 10013 Unknown User."""
        user = self.users.get(_as_id(user_id))
        if user is None:
            raise errors.not_found(errors.UNKNOWN_USER, "User")
        return user

    def guild(self, guild_id: int | str) -> Guild:
        """Return a guild or raise 10004 Unknown Guild."""
        guild = self.guilds.get(_as_id(guild_id))
        if guild is None:
            raise errors.not_found(errors.UNKNOWN_GUILD, "Guild")
        return guild

    def channel(self, channel_id: int | str) -> Channel:
        """Return a channel or raise 10003 Unknown Channel."""
        channel = self.channels.get(_as_id(channel_id))
        if channel is None:
            raise errors.not_found(errors.UNKNOWN_CHANNEL, "Channel")
        return channel

    def message(self, channel: Channel, message_id: int | str) -> Message:
        """Return a live message of the channel or raise 10008 Unknown Message."""
        message = self.messages.get(channel.id, {}).get(_as_id(message_id))
        if message is None or message.deleted:
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        return message

    def guild_of(self, channel: Channel) -> Guild | None:
        """Return the channel's guild (None for a DM)."""
        return self.guilds.get(channel.guild_id) if channel.guild_id else None

    def permissions(self, user_id: int, channel: Channel) -> int:
        """Return the user's permissions in the channel; DMs allow their recipients to talk."""
        if channel.type == DM:
            if any(u.id == user_id for u in channel.recipients):
                return int(
                    Permission.VIEW_CHANNEL
                    | Permission.SEND_MESSAGES
                    | Permission.READ_MESSAGE_HISTORY
                    | Permission.ATTACH_FILES
                    | Permission.EMBED_LINKS
                )
            return 0
        guild = self.guild_of(channel)
        return guild.permissions_in(channel, user_id) if guild else 0

    def can_view(self, user_id: int, channel: Channel) -> bool:
        """Return whether the user can see the channel."""
        return bool(self.permissions(user_id, channel) & Permission.VIEW_CHANNEL)

    def require(self, user_id: int, channel: Channel, needed: int) -> None:
        """Raise 50001 when the channel is hidden from the user, 50013 when a bit is missing."""
        granted = self.permissions(user_id, channel)
        if not granted & Permission.VIEW_CHANNEL:
            raise errors.missing_access()
        if granted & needed != needed:
            raise errors.missing_permissions()

    def require_guild(self, user_id: int, guild: Guild, needed: int) -> None:
        """Raise 50001 for a non-member, 50013 when a guild-level bit is missing."""
        if user_id not in guild.members:
            raise errors.missing_access()
        if guild.base_permissions(user_id) & needed != needed:
            raise errors.missing_permissions()

    def channel_messages(self, channel_id: int) -> list[Message]:
        """Return the channel's live messages, oldest first."""
        return [m for m in self.messages.get(channel_id, {}).values() if not m.deleted]


def _as_id(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(404, 0, "404: Not Found") from None
