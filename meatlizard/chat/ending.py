"""Ending a chat session: mark it ended, write its transcript if opted in, tell the server-bot.

The owner (web or Discord) and an admin end sessions under different rules (who may, what is
audited, whether a failed transcript is tried again); those rules stay with their services
and are passed in as `end`. What follows an end is the same for every caller and lives here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.chat import service
from meatlizard.chat.models import ChatSession
from meatlizard.chat.session_events import SessionChange, SessionEvents, changed

# Marks the session ended and commits; returns it and whether its transcript is now due.
EndRule = Callable[[AsyncSession], Awaitable[tuple[ChatSession, bool]]]
# Writes a session's transcript (in the background on the web, awaited by the bot).
TranscriptWriter = Callable[[str], Awaitable[None]]


def by_owner(user: User, session_id: str, save_transcript: bool | None) -> EndRule:
    """The owner's rule: their own session, with their transcript choice."""

    async def end(db: AsyncSession) -> tuple[ChatSession, bool]:
        return await service.end_session(
            db, user=user, session_id=session_id, save_transcript=save_transcript
        )

    return end


async def finish_session(
    db: AsyncSession,
    end: EndRule,
    *,
    write_transcript: TranscriptWriter,
    events: SessionEvents | None,
) -> ChatSession:
    """End a session by `end`, write its transcript when one is due, publish the event.

    `events` is None for the server-bot itself, which archives or deletes the channel it is
    in; everyone else tells it through the session events so the Discord channel follows.
    """
    session, archive = await end(db)
    if archive:
        await write_transcript(session.id)
    if events is not None:
        await events.publish(await changed(db, [session.id], SessionChange.ENDED))
    return session
