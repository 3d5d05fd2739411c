"""Build the transcript documents with exactly the fields DESIGN.md fixes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from meatlizard.auth.models import User
from meatlizard.chat.models import ChatMessage, ChatSession, Role

CSV_COLUMNS = ("timestamp_utc", "sender", "content")
ASSISTANT = "assistant"


def _utc(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def transcript_data(
    session: ChatSession,
    user: User,
    messages: list[ChatMessage],
    discord_channel_id: str | None,
    other_versions: Sequence[ChatMessage] = (),
) -> dict[str, Any]:
    """Return the transcript in DESIGN.md's key order: the branch shown, then the other versions.

    `other_versions` holds earlier answers and edited-away prompts, each with the message it
    followed, so the whole history is kept while `messages` reads as one conversation.
    """
    return {
        "session_id": session.id,
        "user_id": user.id,
        "username": user.username,
        "discord_channel_id": discord_channel_id,
        "start_time_utc": _utc(session.created_at),
        "end_time_utc": _utc(session.ended_at),
        "system_prompt": session.system_prompt,
        "model_parameters_used": {
            "model_alias": session.model_alias,
            "temperature": session.temperature,
        },
        "message_count": len(messages),
        "messages": [
            {
                "message_id": m.id,
                "timestamp_utc": _utc(m.created_at),
                "sender": user.username if m.role is Role.USER else ASSISTANT,
                "content": m.content,
            }
            for m in messages
        ],
        "other_versions": [
            {
                "message_id": m.id,
                "parent_message_id": m.parent_id,
                "timestamp_utc": _utc(m.created_at),
                "sender": user.username if m.role is Role.USER else ASSISTANT,
                "content": m.content,
            }
            for m in other_versions
        ],
    }


def as_json(data: dict[str, Any]) -> bytes:
    """Serialise the transcript as UTF-8 JSON."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def as_csv(data: dict[str, Any]) -> bytes:
    """Serialise the messages as RFC 4180 CSV with a header row (UTF-8 with BOM for Excel)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for m in data["messages"]:
        writer.writerow([m["timestamp_utc"], m["sender"], m["content"]])
    return out.getvalue().encode("utf-8-sig")
