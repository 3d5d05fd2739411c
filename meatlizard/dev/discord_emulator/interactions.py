"""Interactions: the documented INTERACTION_CREATE payload, callbacks and follow-up webhooks."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.errors import ApiError
from meatlizard.dev.discord_emulator.message import (
    CHAT_INPUT_COMMAND_MESSAGE,
    EPHEMERAL,
    LOADING,
    Message,
)
from meatlizard.dev.discord_emulator.messaging import Messaging, Upload
from meatlizard.dev.discord_emulator.models import DM, Application, Channel, User, snowflake
from meatlizard.dev.discord_emulator.permissions import ALL
from meatlizard.dev.discord_emulator.state import State

APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
# Callback types (interactions/receiving-and-responding#interaction-response-object).
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL = 1, 4, 5, 6, 7, 9
TOKEN_LIFETIME_S = 15 * 60
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass
class Interaction:
    """An interaction the emulator delivered, and everything the app answered to it."""

    id: int
    token: str
    type: int
    app: Application
    user: User
    channel: Channel
    data: dict[str, Any]
    message: Message | None = None  # the message a component sits on
    created: float = field(default_factory=time.monotonic)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    refused: int = 0  # responses refused because the interaction was dead (10062, 10015)

    @property
    def response_type(self) -> int | None:
        """Return the callback type the app answered with, if any."""
        return self.callbacks[0]["type"] if self.callbacks else None

    async def wait_response(self) -> dict[str, Any]:
        """Wait until the app answers the interaction; return its callback body."""
        await self.answered.wait()
        return self.callbacks[0]


class Interactions:
    """Builds interactions and applies the app's callbacks and follow-ups."""

    def __init__(self, state: State, messaging: Messaging, *, ack_deadline_s: float = 3.0) -> None:
        self.state = state
        self.messaging = messaging
        self.ack_deadline_s = ack_deadline_s
        self.by_id: dict[int, Interaction] = {}

    def create(
        self,
        app: Application,
        user: User,
        channel: Channel,
        kind: int,
        data: dict[str, Any],
        message: Message | None = None,
    ) -> tuple[Interaction, dict[str, Any]]:
        """Record a new interaction and return it with its gateway payload."""
        record = Interaction(
            snowflake(),
            f"aW50ZXJhY3Rpb24{secrets.token_urlsafe(48)}",
            kind,
            app,
            user,
            channel,
            data,
            message,
        )
        self.by_id[record.id] = record
        return record, self.payload(record)

    def payload(self, record: Interaction) -> dict[str, Any]:
        """Return the documented interaction object."""
        channel = record.channel
        bot_permissions = self.state.permissions(record.app.bot.id, channel)
        payload: dict[str, Any] = {
            "id": str(record.id),
            "application_id": str(record.app.id),
            "type": record.type,
            "data": record.data,
            "channel_id": str(channel.id),
            "channel": channel.payload(viewer_id=record.app.bot.id),
            "token": record.token,
            "version": 1,
            "app_permissions": str(bot_permissions if channel.type != DM else ALL),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        guild = self.state.guild_of(channel)
        if guild is not None:
            member = guild.members[record.user.id].payload()
            member["permissions"] = str(guild.permissions_in(channel, record.user.id))
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member,
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            payload.update(
                user=record.user.payload(),
                context=1,
                authorizing_integration_owners={"1": str(record.user.id)},
            )
        if record.message is not None:
            payload["message"] = record.message.payload()
        return payload

    def get(self, interaction_id: str, token: str) -> Interaction:
        """Return a live interaction by id and token, or raise 10062 Unknown interaction."""
        record = self.by_id.get(int(interaction_id)) if interaction_id.isdigit() else None
        if record is None or record.token != token:
            raise ApiError(404, errors.UNKNOWN_INTERACTION, "Unknown interaction")
        return record

    def by_token(self, app_id: str, token: str) -> Interaction:
        """Return the interaction behind a follow-up webhook, or raise 10015 Unknown Webhook."""
        for record in self.by_id.values():
            if record.token == token and str(record.app.id) == app_id:
                if time.monotonic() - record.created > TOKEN_LIFETIME_S:
                    raise ApiError(401, 50027, "Invalid Webhook Token")
                if not record.callbacks:
                    record.refused += 1
                    break
                return record
        raise errors.not_found(errors.UNKNOWN_WEBHOOK, "Webhook")

    def callback(
        self, record: Interaction, body: dict[str, Any], files: dict[int, Upload]
    ) -> dict[str, Any]:
        """Apply an interaction response and return the with_response callback object."""
        if record.callbacks:
            raise ApiError(
                400, errors.INTERACTION_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        if time.monotonic() - record.created > self.ack_deadline_s:
            record.refused += 1
            self.state.notify()
            raise ApiError(404, errors.UNKNOWN_INTERACTION, "Unknown interaction")
        kind, data = body.get("type"), body.get("data") or {}
        allowed = {MESSAGE, DEFERRED_MESSAGE, MODAL}
        if record.type in (MESSAGE_COMPONENT, MODAL_SUBMIT):
            allowed |= {DEFERRED_UPDATE, UPDATE_MESSAGE}
        if record.type == MODAL_SUBMIT:
            allowed.discard(MODAL)
        if kind not in allowed:
            raise errors.invalid_form("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid type")
        message: Message | None = None
        if kind == MESSAGE:
            message = record.original = self._respond(record, data, files)
        elif kind == DEFERRED_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = record.original = self._respond(record, {}, {}, flags=flags, loading=True)
        elif kind == UPDATE_MESSAGE and record.message is not None:
            message = self.messaging.edit(record.message, data, files)
        elif kind == MODAL:
            record.modal = data
        record.callbacks.append({"type": kind, "data": data})
        record.answered.set()
        self.state.notify()
        answer: dict[str, Any] = {"interaction": {"id": str(record.id), "type": record.type}}
        if message is not None:
            answer["interaction"].update(
                response_message_id=str(message.id),
                response_message_loading=bool(message.flags & LOADING),
                response_message_ephemeral=message.ephemeral,
            )
            answer["resource"] = {"type": kind, "message": message.payload()}
        return answer

    def _respond(
        self,
        record: Interaction,
        data: dict[str, Any],
        files: dict[int, Upload],
        *,
        flags: int = 0,
        loading: bool = False,
    ) -> Message:
        kind = CHAT_INPUT_COMMAND_MESSAGE if record.type == APPLICATION_COMMAND else 0
        extra: dict[str, Any] = {
            "type": kind,
            "flags": flags,
            "webhook_id": record.app.id,
            "application_id": record.app.id,
            "interaction_metadata": self._metadata(record),
        }
        if loading:
            return self._loading(record, extra)
        return self.messaging.create(record.channel, record.app.bot, data, files, **extra)

    def _loading(self, record: Interaction, extra: dict[str, Any]) -> Message:
        """Store the 'thinking…' message of a deferred response (it has no content yet)."""
        message = Message(
            id=snowflake(), channel_id=record.channel.id, author=record.app.bot, content="", **extra
        )
        message.guild_id = record.channel.guild_id
        self.state.messages.setdefault(record.channel.id, {})[message.id] = message
        self.messaging.events.message_event("MESSAGE_CREATE", message)
        return message

    @staticmethod
    def _metadata(record: Interaction) -> dict[str, Any]:
        owners = (
            {"0": str(record.channel.guild_id)}
            if record.channel.guild_id
            else {"1": str(record.user.id)}
        )
        return {
            "id": str(record.id),
            "type": record.type,
            "user": record.user.payload(),
            "authorizing_integration_owners": owners,
            "name": record.data.get("name"),
        }

    def followup(
        self, record: Interaction, data: dict[str, Any], files: dict[int, Upload]
    ) -> Message:
        """Send a follow-up; the first one after a deferred response fills the loading message."""
        original = record.original
        if original is not None and original.flags & LOADING:
            original.flags &= ~LOADING
            return self.messaging.edit(original, data, files)
        extra = {
            "type": CHAT_INPUT_COMMAND_MESSAGE if record.type == APPLICATION_COMMAND else 0,
            "webhook_id": record.app.id,
            "application_id": record.app.id,
            "interaction_metadata": self._metadata(record),
        }
        message = self.messaging.create(record.channel, record.app.bot, data, files, **extra)
        record.followups.append(message)
        return message

    def edit(self, message: Message, data: dict[str, Any], files: dict[int, Upload]) -> Message:
        """Edit an interaction message; editing a loading message completes it."""
        message.flags &= ~LOADING
        return self.messaging.edit(message, data, files)

    def webhook_message(self, record: Interaction, message_id: str) -> Message:
        """Return @original or one of the interaction's follow-ups, or raise 10008."""
        if message_id == "@original":
            if record.original is None:
                raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
            return record.original
        for message in record.followups:
            if str(message.id) == message_id and not message.deleted:
                return message
        raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
