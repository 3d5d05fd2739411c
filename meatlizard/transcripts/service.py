"""Write a session's transcript to storage (opt-in only), and find it again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.auth.models import User
from meatlizard.chat import branches
from meatlizard.chat.discord_channels import DiscordSessionChannel
from meatlizard.chat.models import ArchiveStatus, ChatSession
from meatlizard.core.storage import ObjectStorage
from meatlizard.transcripts import documents
from meatlizard.transcripts.delivery import (
    TranscriptDelivery,
    TranscriptFailed,
    TranscriptReady,
    announce,
)
from meatlizard.transcripts.models import Transcript

log = logging.getLogger(__name__)
ATTEMPTS = 3
RETRY_BASE_SECONDS = 1.0


def keys_for(session_id: str) -> tuple[str, str]:
    """Return the JSON and CSV object keys of a session's transcript."""
    base = f"transcripts/{session_id}/transcript"
    return base + ".json", base + ".csv"


async def get_transcript(db: AsyncSession, *, session_id: str) -> Transcript | None:
    """Return the transcript record of a session, if one was written."""
    return await db.scalar(select(Transcript).where(Transcript.session_id == session_id))


async def _write_once(
    sessions: async_sessionmaker[AsyncSession], storage: ObjectStorage, session_id: str
) -> TranscriptReady:
    async with sessions() as db:
        chat = await db.get(ChatSession, session_id)
        if chat is None:
            raise LookupError(f"session {session_id} no longer exists")
        user = await db.get(User, chat.user_id)
        assert user is not None
        everything = await branches.tree(db, session_id=session_id)
        messages = everything.branch(chat.current_leaf_id)
        channel = await db.get(DiscordSessionChannel, session_id)
        data = documents.transcript_data(
            chat,
            user,
            messages,
            discord_channel_id=channel.channel_id if channel else None,
            other_versions=everything.hidden(chat.current_leaf_id),
        )
        json_key, csv_key = keys_for(session_id)
        try:
            await storage.put_bytes(
                json_key, documents.as_json(data), content_type="application/json"
            )
            await storage.put_bytes(
                csv_key, documents.as_csv(data), content_type="text/csv; charset=utf-8"
            )
            record = await get_transcript(db, session_id=session_id) or Transcript(
                session_id=session_id,
                user_id=user.id,
                json_key=json_key,
                csv_key=csv_key,
                message_count=len(messages),
            )
            record.message_count = len(messages)
            db.add(record)
            chat.archive_status = ArchiveStatus.ARCHIVED
            await db.commit()
        except Exception:
            # Nothing half-written: no objects without a record, no record without objects.
            await db.rollback()
            for key in (json_key, csv_key):
                await storage.delete(key)
            raise
        return TranscriptReady(
            session_id=session_id,
            user_id=user.id,
            username=user.username,
            discord_id=user.discord_id,
            json_key=json_key,
            csv_key=csv_key,
            message_count=record.message_count,
        )


async def archive_session(
    sessions: async_sessionmaker[AsyncSession],
    storage: ObjectStorage,
    session_id: str,
    *,
    deliveries: Sequence[TranscriptDelivery] = (),
    retry_base_seconds: float = RETRY_BASE_SECONDS,
) -> TranscriptReady | None:
    """Write the transcript, retrying with backoff, then tell the user how it went."""
    error = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            ready = await _write_once(sessions, storage, session_id)
        except LookupError:
            return None
        except Exception as exc:
            error = str(exc) or type(exc).__name__
            log.warning("transcript of %s failed (attempt %d): %s", session_id, attempt, exc)
            if attempt < ATTEMPTS:
                await asyncio.sleep(retry_base_seconds * 4 ** (attempt - 1))
        else:
            await announce(deliveries, ready)
            return ready
    async with sessions() as db:
        chat = await db.get(ChatSession, session_id)
        if chat is None:
            return None
        chat.archive_status = ArchiveStatus.FAILED
        user = await db.get(User, chat.user_id)
        assert user is not None
        failed = TranscriptFailed(session_id, user.id, user.username, user.discord_id, error)
        await db.commit()
    await announce(deliveries, failed)
    return None
