"""Telling the user a transcript is ready (or finally failed): web now, Discord via the bots.

The server-bot delivers on Discord by adding its own `TranscriptDelivery` to
`Services.transcript_deliveries`: a DM with `await links(storage, event, seconds)` and the
`event.permanent_path` posted in #ai-transcripts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.storage import ObjectStorage
from meatlizard.notifications.service import notify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TranscriptReady:
    """A transcript was written: both objects and its record exist."""

    session_id: str
    user_id: int
    username: str
    discord_id: str | None
    json_key: str
    csv_key: str
    message_count: int

    @property
    def permanent_path(self) -> str:
        """The object-storage path posted to #ai-transcripts."""
        return self.json_key.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class TranscriptFailed:
    """Every attempt to write a transcript failed; nothing was left behind."""

    session_id: str
    user_id: int
    username: str
    discord_id: str | None
    error: str


class TranscriptDelivery(Protocol):
    """Something that tells users about their transcripts."""

    async def ready(self, event: TranscriptReady) -> None:
        """Deliver the transcript (links, a message...)."""

    async def failed(self, event: TranscriptFailed) -> None:
        """Tell the user the transcript could not be written."""


async def links(storage: ObjectStorage, event: TranscriptReady, seconds: int) -> dict[str, str]:
    """Return pre-signed download links by format (empty on local storage)."""
    found = {}
    for fmt, key in (("json", event.json_key), ("csv", event.csv_key)):
        url = await storage.presigned_url(key, seconds)
        if url is not None:
            found[fmt] = url
    return found


def download_path(session_id: str, fmt: str = "json") -> str:
    """Return the web download address, which always hands out a fresh link."""
    return f"/api/v1/chat/sessions/{session_id}/transcript?format={fmt}"


class WebNotifications:
    """Delivers as a web notification with a download button."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def ready(self, event: TranscriptReady) -> None:
        """Notify the user with a download button."""
        async with self._sessions() as db:
            notify(
                db,
                user_id=event.user_id,
                kind="transcript.ready",
                message=f"The transcript of your chat ({event.message_count} messages) is ready.",
                link=download_path(event.session_id),
                link_label="Download transcript",
            )
            await db.commit()

    async def failed(self, event: TranscriptFailed) -> None:
        """Notify the user that writing the transcript failed."""
        async with self._sessions() as db:
            notify(
                db,
                user_id=event.user_id,
                kind="transcript.failed",
                message=(
                    "The transcript of your chat could not be saved after several attempts; "
                    "end the chat again to retry."
                ),
                link=f"/chat/{event.session_id}",
                link_label="Open the chat",
            )
            await db.commit()


async def announce(
    deliveries: Sequence[TranscriptDelivery], event: TranscriptReady | TranscriptFailed
) -> None:
    """Hand the event to every delivery; one failing does not stop the others."""
    for delivery in deliveries:
        try:
            if isinstance(event, TranscriptReady):
                await delivery.ready(event)
            else:
                await delivery.failed(event)
        except Exception:
            log.exception("transcript delivery %s failed", type(delivery).__name__)
