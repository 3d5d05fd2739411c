"""A message and its attachments as Discord JSON (resources/message; ids as strings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meatlizard.dev.discord_emulator.models import Member, User, iso_now

# Message types and flags (resources/message).
DEFAULT_MESSAGE = 0
CHAT_INPUT_COMMAND_MESSAGE = 20
EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass
class Attachment:
    """A file attached to a message, served by the emulator."""

    id: int
    filename: str
    content_type: str
    data: bytes
    url: str
    description: str | None = None

    def payload(self) -> dict[str, Any]:
        """Return the attachment object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        return data


@dataclass
class Message:
    """A message and every version of its content (for test assertions)."""

    id: int
    channel_id: int
    author: User
    content: str
    guild_id: int | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = DEFAULT_MESSAGE
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    edits: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        """Return whether only the invoking user sees this message."""
        return bool(self.flags & EPHEMERAL)

    def payload(self, member: Member | None = None) -> dict[str, Any]:
        """Return the message object; gateway events also carry guild_id and member."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
            if member is not None:
                data["member"] = member.payload(with_user=False)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        return data
