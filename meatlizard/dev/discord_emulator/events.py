"""Routing of gateway events to the sessions entitled to them (intents and permissions)."""

from __future__ import annotations

import copy
from typing import Any

from meatlizard.dev.discord_emulator.gateway import Gateway, Intent, Session
from meatlizard.dev.discord_emulator.message import Message
from meatlizard.dev.discord_emulator.models import DM, Application, Channel
from meatlizard.dev.discord_emulator.state import State

CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


class Events:
    """Publishes state changes as Discord gateway events."""

    def __init__(self, state: State, gateway: Gateway) -> None:
        self.state = state
        self.gateway = gateway

    def _sessions(self) -> list[Session]:
        return list(self.gateway.sessions.values())

    def to_app(self, app: Application, event: str, data: dict[str, Any]) -> int:
        """Send an event to every session of one application; return how many got it."""
        sessions = self.gateway.live_sessions(app)
        for session in sessions:
            session.dispatch(event, copy.deepcopy(data))
        return len(sessions)

    def channel_event(self, event: str, channel: Channel) -> None:
        """Publish CHANNEL_CREATE/UPDATE/DELETE to the guild's bots (GUILDS intent)."""
        guild = self.state.guild_of(channel)
        self.state.notify()
        if guild is None:
            return
        for session in self._sessions():
            if session.intents & Intent.GUILDS and session.app.bot.id in guild.members:
                session.dispatch(event, channel.payload())

    def member_event(self, event: str, guild_id: int, data: dict[str, Any]) -> None:
        """Publish GUILD_MEMBER_* or GUILD_ROLE_* events to the guild's bots."""
        guild = self.state.guilds[guild_id]
        needed = Intent.GUILD_MEMBERS if event.startswith("GUILD_MEMBER") else Intent.GUILDS
        for session in self._sessions():
            if session.intents & needed and session.app.bot.id in guild.members:
                session.dispatch(event, {"guild_id": str(guild_id), **data})

    def message_event(self, event: str, message: Message) -> None:
        """Publish MESSAGE_CREATE/UPDATE to bots that can see it; ephemeral ones go nowhere."""
        if message.ephemeral:
            return
        channel = self.state.channels[message.channel_id]
        guild = self.state.guild_of(channel)
        intent = Intent.DIRECT_MESSAGES if channel.type == DM else Intent.GUILD_MESSAGES
        for session in self._sessions():
            bot_id = session.app.bot.id
            if not session.intents & intent or not self.state.can_view(bot_id, channel):
                continue
            member = guild.members.get(message.author.id) if guild else None
            data = message.payload(member)
            if not self._may_read_content(session, message, channel):
                data.update(copy.deepcopy(CONTENT_FIELDS))
            session.dispatch(event, data)

    def message_deleted(self, message: Message) -> None:
        """Publish MESSAGE_DELETE."""
        channel = self.state.channels[message.channel_id]
        intent = Intent.DIRECT_MESSAGES if channel.type == DM else Intent.GUILD_MESSAGES
        data = {"id": str(message.id), "channel_id": str(channel.id)}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        for session in self._sessions():
            if session.intents & intent and self.state.can_view(session.app.bot.id, channel):
                session.dispatch("MESSAGE_DELETE", dict(data))

    @staticmethod
    def _may_read_content(session: Session, message: Message, channel: Channel) -> bool:
        bot_id = session.app.bot.id
        return bool(
            session.intents & Intent.MESSAGE_CONTENT
            or channel.type == DM
            or message.author.id == bot_id
            or f"<@{bot_id}>" in message.content
        )
