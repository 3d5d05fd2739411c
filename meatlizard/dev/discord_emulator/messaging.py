"""Creating, editing and deleting messages, with attachments, as Discord validates them."""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from meatlizard.dev.discord_emulator import errors, limits
from meatlizard.dev.discord_emulator.errors import ApiError
from meatlizard.dev.discord_emulator.events import Events
from meatlizard.dev.discord_emulator.message import EPHEMERAL, Attachment, Message
from meatlizard.dev.discord_emulator.models import Channel, User, iso_now, snowflake
from meatlizard.dev.discord_emulator.state import State

MAX_CONTENT_CHARS = 2000
MAX_EMBEDS = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
SETTABLE_FLAGS = EPHEMERAL | (1 << 2) | (1 << 12)  # ephemeral, suppress embeds, silent


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


async def read_body(request: web.Request) -> tuple[dict[str, Any], dict[int, Upload]]:
    """Return the JSON payload and the uploaded files of a JSON or multipart request."""
    if not request.content_type.startswith("multipart/"):
        if not request.can_read_body:
            return {}, {}
        try:
            payload = await request.json()
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
        if not isinstance(payload, dict):
            raise errors.invalid_form("_root", "DICT_TYPE_CONVERT", "Must be an object.")
        return payload, {}
    form: dict[str, Any] = {}
    files: dict[int, Upload] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            form = json.loads(await part.text())
        elif part.name and (match := FILE_FIELD.match(part.name)):
            data = await part.read()
            if len(data) > MAX_FILE_BYTES:
                raise ApiError(413, 40005, "Request entity too large")
            filename = part.filename or f"file{match.group(1)}"
            kind = part.headers.get("Content-Type") or mimetypes.guess_type(filename)[0]
            files[int(match.group(1))] = Upload(filename, kind or "application/octet-stream", data)
            limits.check_request_files([len(f.data) for f in files.values()])
    return form, files


class Messaging:
    """Message lifecycle shared by REST routes, interactions and the test-control API."""

    def __init__(self, state: State, events: Events) -> None:
        self.state = state
        self.events = events

    def create(
        self,
        channel: Channel,
        author: User,
        payload: dict[str, Any],
        files: dict[int, Upload] | None = None,
        **extra: Any,
    ) -> Message:
        """Validate, store and publish a new message."""
        message = Message(id=snowflake(), channel_id=channel.id, author=author, content="", **extra)
        message.guild_id = channel.guild_id
        message.flags |= int(payload.get("flags") or 0) & SETTABLE_FLAGS
        self._apply(message, payload, files or {}, creating=True)
        self.state.messages.setdefault(channel.id, {})[message.id] = message
        if not message.ephemeral:
            channel.last_message_id = message.id
        self.events.message_event("MESSAGE_CREATE", message)
        self.state.notify()
        return message

    def edit(
        self, message: Message, payload: dict[str, Any], files: dict[int, Upload] | None = None
    ) -> Message:
        """Apply an edit, keep the old content in the history and publish MESSAGE_UPDATE."""
        message.edits.append(message.content)
        self._apply(message, payload, files or {}, creating=False)
        message.edited_timestamp = iso_now()
        self.events.message_event("MESSAGE_UPDATE", message)
        self.state.notify()
        return message

    def delete(self, message: Message) -> None:
        """Mark a message deleted and publish MESSAGE_DELETE."""
        message.deleted = True
        if not message.ephemeral:
            self.events.message_deleted(message)
        self.state.notify()

    def _apply(
        self, message: Message, payload: dict[str, Any], files: dict[int, Upload], *, creating: bool
    ) -> None:
        content = payload.get("content")
        if content is not None:
            if not isinstance(content, str) or len(content) > MAX_CONTENT_CHARS:
                raise errors.invalid_form(
                    "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
                )
            message.content = content
        if "embeds" in payload or "embed" in payload:
            embeds = payload.get("embeds") or ([payload["embed"]] if payload.get("embed") else [])
            if len(embeds) > MAX_EMBEDS:
                raise errors.invalid_form(
                    "embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."
                )
            limits.check_embeds(embeds)
            message.embeds = [_embed(e) for e in embeds]
        if "components" in payload:
            message.components = payload["components"] or []
        if "attachments" in payload or files:
            message.attachments = self._attachments(message, payload.get("attachments"), files)
        # Whitespace alone is blank to Discord.
        if creating and not (
            message.content.strip() or message.embeds or message.attachments or message.components
        ):
            raise ApiError(400, errors.EMPTY_MESSAGE, "Cannot send an empty message")

    def _attachments(
        self, message: Message, listed: list[dict[str, Any]] | None, files: dict[int, Upload]
    ) -> list[Attachment]:
        existing = {a.id: a for a in message.attachments}
        described: dict[int, dict[str, Any]] = {}
        kept: list[Attachment] = []
        for item in listed if listed is not None else [{"id": a} for a in existing]:
            ident = int(item.get("id", -1))
            if ident in existing:
                kept.append(existing[ident])
            else:
                described[ident] = item
        for index, upload in sorted(files.items()):
            info = described.get(index, {})
            filename = info.get("filename") or upload.filename
            attachment = Attachment(
                id=snowflake(),
                filename=filename,
                content_type=upload.content_type,
                data=upload.data,
                url="",
                description=info.get("description"),
            )
            attachment.url = (
                f"{self.state.base_url}/attachments/{message.channel_id}/{attachment.id}/{filename}"
            )
            self.state.attachments[attachment.id] = attachment
            kept.append(attachment)
        return kept


def _embed(embed: dict[str, Any]) -> dict[str, Any]:
    """Return an embed as Discord stores it (type 'rich' unless given)."""
    return {"type": "rich", **embed}
