"""Sessions ended or deleted outside Discord, told to the server-bot so their channels follow.

Whoever ends or deletes a chat session that has a Discord channel (the web, an admin, an
account deletion) adds an entry to a Redis stream once the change is committed. The
server-bot reads it in a consumer group, does what the database says *now* (ended: archive
the channel; gone: delete it) and acknowledges, so an entry added while the server-bot is
offline is handled when it comes back. Entries carry no secret and grant nothing: a forged
one only makes the server-bot look at the database. Without Redis nothing is published (the
embedded default has no bots); the server-bot's start-up sweep archives what it missed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.chat.discord_channels import DiscordSessionChannel

if TYPE_CHECKING:
    import redis.asyncio as redis

log = logging.getLogger(__name__)

STREAM = "ml:discord:session-events"
GROUP = "server-bot"
MAX_ENTRIES = 10_000


class SessionChange(StrEnum):
    """What happened to a session."""

    ENDED = "ended"
    DELETED = "deleted"


@dataclass(frozen=True)
class SessionEvent:
    """One session whose Discord channel must follow it."""

    session_id: str
    change: SessionChange
    channel_id: int

    def fields(self) -> dict[str, str]:
        """Return the stream entry's fields."""
        return {
            "session_id": self.session_id,
            "change": self.change.value,
            "channel_id": str(self.channel_id),
        }

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> SessionEvent:
        """Read a stream entry; ValueError when it is malformed."""
        try:
            return cls(
                session_id=fields[b"session_id"].decode(),
                change=SessionChange(fields[b"change"].decode()),
                channel_id=int(fields[b"channel_id"]),
            )
        except (KeyError, UnicodeDecodeError) as exc:
            raise ValueError(f"malformed session event {fields!r}") from exc


async def linked_channels(db: AsyncSession, session_ids: Sequence[str]) -> dict[str, int]:
    """Return the Discord channel of each of these sessions that has one."""
    if not session_ids:
        return {}
    rows = await db.execute(
        select(DiscordSessionChannel.session_id, DiscordSessionChannel.channel_id).where(
            DiscordSessionChannel.session_id.in_(list(session_ids))
        )
    )
    return {session_id: int(channel_id) for session_id, channel_id in rows.all()}


class SessionEvents(Protocol):
    """Where session changes are published for the server-bot."""

    async def publish(self, events: Sequence[SessionEvent]) -> None:
        """Tell the server-bot; never raises (a failure is logged)."""

    async def close(self) -> None:
        """Release the connection."""


async def changed(
    db: AsyncSession, session_ids: Sequence[str], change: SessionChange
) -> list[SessionEvent]:
    """Return the events for these sessions' channels (read them before a deletion)."""
    return [
        SessionEvent(session_id, change, channel_id)
        for session_id, channel_id in (await linked_channels(db, session_ids)).items()
    ]


class NoSessionEvents:
    """No Redis: nobody in another process listens."""

    async def publish(self, events: Sequence[SessionEvent]) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisSessionEvents:
    """Adds one entry per event to the server-bot's stream."""

    def __init__(self, redis_url: str) -> None:
        self._url = redis_url
        self._redis: redis.Redis | None = None

    async def publish(self, events: Sequence[SessionEvent]) -> None:
        if not events:
            return
        import redis.asyncio as redis

        from meatlizard.core.redis_client import connect

        if self._redis is None:
            self._redis = connect(self._url)
        for event in events:
            try:
                await self._redis.xadd(
                    STREAM,
                    event.fields(),  # type: ignore[arg-type]
                    maxlen=MAX_ENTRIES,
                    approximate=True,
                )
            except redis.RedisError as exc:  # the change itself is committed already
                log.error(
                    "could not tell the server-bot that session %s was %s: %s",
                    event.session_id,
                    event.change.value,
                    exc,
                )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def session_events_for(redis_url: str | None) -> SessionEvents:
    """Return the publisher for these settings."""
    return RedisSessionEvents(redis_url) if redis_url else NoSessionEvents()
