"""Chat sessions: create, list, change, delete, history, export, context for the model."""

from __future__ import annotations

import json

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meatlizard.auth.models import User
from meatlizard.chat.models import ArchiveStatus, ChatMessage, ChatSession, MessageStatus, Role
from meatlizard.chat.presets import PRESETS
from meatlizard.chat.schemas import SessionCreate, SessionUpdate
from meatlizard.core.db import utcnow
from meatlizard.core.errors import InvalidInput, NotFound
from meatlizard.inference.engine import Turn

DEFAULT_TITLE = "New chat"
DEFAULT_TEMPERATURE = 0.7
AUTO_TITLE_CHARS = 60


def _check_alias(alias: str, aliases: list[str]) -> None:
    if alias not in aliases:
        raise InvalidInput(f"unknown model {alias!r}; choose one of: {', '.join(aliases)}")


async def create_session(
    db: AsyncSession, *, user: User, data: SessionCreate, aliases: list[str], default_alias: str
) -> ChatSession:
    """Start a session; a preset fills the system prompt and temperature not given explicitly."""
    preset = None
    if data.preset:
        preset = PRESETS.get(data.preset)
        if preset is None:
            raise InvalidInput(
                f"unknown preset {data.preset!r}; choose one of: {', '.join(PRESETS)}"
            )
    alias = data.model_alias or default_alias
    _check_alias(alias, aliases)
    session = ChatSession(
        user_id=user.id,
        title=(data.title or "").strip() or (preset.label if preset else DEFAULT_TITLE),
        system_prompt=data.system_prompt
        if data.system_prompt is not None
        else (preset.system_prompt if preset else ""),
        temperature=data.temperature
        if data.temperature is not None
        else (preset.temperature if preset else DEFAULT_TEMPERATURE),
        model_alias=alias,
        preset=preset.key if preset else None,
        save_transcript=user.transcripts_default
        if data.save_transcript is None
        else data.save_transcript,
    )
    db.add(session)
    await db.commit()
    return session


async def list_sessions(db: AsyncSession, *, user: User, limit: int = 100) -> list[ChatSession]:
    """Return the user's sessions, most recently active first."""
    rows = await db.scalars(
        select(ChatSession)
        .where(ChatSession.user_id == user.id)
        .order_by(ChatSession.updated_at.desc())
        .limit(limit)
    )
    return list(rows)


async def get_session(
    db: AsyncSession, *, user: User, session_id: str, with_messages: bool = False
) -> ChatSession:
    """Return one of the user's sessions; someone else's looks exactly like a missing one."""
    query = select(ChatSession).where(ChatSession.id == session_id)
    if with_messages:
        query = query.options(selectinload(ChatSession.messages))
    session = await db.scalar(query)
    if session is None or session.user_id != user.id:
        raise NotFound("no such chat session")
    return session


async def update_session(
    db: AsyncSession, *, user: User, session_id: str, data: SessionUpdate, aliases: list[str]
) -> ChatSession:
    """Rename a session or change its prompt, temperature or model."""
    session = await get_session(db, user=user, session_id=session_id)
    if data.model_alias is not None:
        _check_alias(data.model_alias, aliases)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(session, field, value.strip() if field == "title" else value)
    session.updated_at = utcnow()
    await db.commit()
    return session


async def end_session(
    db: AsyncSession, *, user: User, session_id: str, save_transcript: bool | None
) -> tuple[ChatSession, bool]:
    """Mark a session ended; return it and whether a transcript must now be written."""
    session = await get_session(db, user=user, session_id=session_id)
    if session.ended_at is None:
        session.ended_at = utcnow()
    if save_transcript is not None:
        session.save_transcript = save_transcript
    archive = session.save_transcript and session.archive_status in (None, ArchiveStatus.FAILED)
    if archive:
        session.archive_status = ArchiveStatus.ARCHIVING
    await db.commit()
    return session, archive


async def delete_session(db: AsyncSession, *, user: User, session_id: str) -> None:
    """Delete a session and all its messages."""
    session = await get_session(db, user=user, session_id=session_id)
    await db.delete(session)
    await db.commit()


async def history(db: AsyncSession, *, session_id: str) -> list[ChatMessage]:
    """Return a session's messages in order."""
    rows = await db.scalars(
        select(ChatMessage).where(ChatMessage.session_id == session_id).order_by(ChatMessage.id)
    )
    return list(rows)


async def add_user_message(db: AsyncSession, *, session: ChatSession, content: str) -> ChatMessage:
    """Store a prompt; the first prompt of an untitled session becomes its title."""
    message = ChatMessage(session_id=session.id, role=Role.USER, content=content)
    db.add(message)
    if session.title == DEFAULT_TITLE:
        title = " ".join(content.split())
        session.title = title[:AUTO_TITLE_CHARS] + ("…" if len(title) > AUTO_TITLE_CHARS else "")
    session.updated_at = utcnow()
    await db.commit()
    return message


async def add_assistant_message(
    db: AsyncSession,
    *,
    session: ChatSession,
    content: str,
    status: MessageStatus,
    model_alias: str,
    is_fallback: bool,
    token_count: int,
    tokens_per_second: float,
) -> ChatMessage:
    """Store an answer (complete, or what was generated before a stop)."""
    message = ChatMessage(
        session_id=session.id,
        role=Role.ASSISTANT,
        content=content,
        status=status,
        model_alias=model_alias,
        is_fallback=is_fallback,
        token_count=token_count,
        tokens_per_second=round(tokens_per_second, 2),
    )
    db.add(message)
    session.updated_at = utcnow()
    await db.commit()
    return message


async def drop_last_answer(db: AsyncSession, *, session: ChatSession) -> ChatMessage:
    """Delete the answers after the last prompt (to regenerate); return that prompt."""
    messages = await history(db, session_id=session.id)
    last_user = next((m for m in reversed(messages) if m.role is Role.USER), None)
    if last_user is None:
        raise InvalidInput("there is no prompt to answer again yet")
    await db.execute(
        delete(ChatMessage).where(
            ChatMessage.session_id == session.id, ChatMessage.id > last_user.id
        )
    )
    await db.commit()
    return last_user


def conversation_turns(messages: list[ChatMessage]) -> list[Turn]:
    """Return the history as model turns, leaving out answers that failed."""
    return [
        Turn(m.role.value, m.content)
        for m in messages
        if not (m.role is Role.ASSISTANT and m.status is MessageStatus.FAILED)
    ]


async def delete_message(db: AsyncSession, *, message_id: int) -> None:
    """Remove one message (a prompt the model could not take)."""
    await db.execute(delete(ChatMessage).where(ChatMessage.id == message_id))
    await db.commit()


def export_json(session: ChatSession, messages: list[ChatMessage]) -> str:
    """Return the session as a JSON document."""
    return json.dumps(
        {
            "id": session.id,
            "title": session.title,
            "system_prompt": session.system_prompt,
            "temperature": session.temperature,
            "model_alias": session.model_alias,
            "preset": session.preset,
            "created_at": session.created_at.isoformat(),
            "messages": [
                {
                    "role": m.role.value,
                    "content": m.content,
                    "created_at": m.created_at.isoformat(),
                    "status": m.status.value,
                    "model_alias": m.model_alias,
                    "is_fallback": m.is_fallback,
                }
                for m in messages
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def export_markdown(session: ChatSession, messages: list[ChatMessage]) -> str:
    """Return the session as a readable Markdown document."""
    lines = [f"# {session.title}", ""]
    lines.append(f"- Model: `{session.model_alias}`, temperature {session.temperature}")
    lines.append(f"- Started: {session.created_at:%Y-%m-%d %H:%M} UTC")
    if session.system_prompt:
        lines += ["", "> **System prompt:** " + session.system_prompt.replace("\n", "\n> ")]
    for m in messages:
        who = "You" if m.role is Role.USER else "Assistant"
        if m.is_fallback:
            who += " (fallback)"
        if m.status is MessageStatus.STOPPED:
            who += " (stopped)"
        lines += ["", f"## {who} — {m.created_at:%H:%M}", "", m.content]
    return "\n".join(lines) + "\n"
