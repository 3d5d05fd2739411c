"""Chat sessions: create, list, change, delete, history, export, context for the model."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meatlizard.auth.models import User
from meatlizard.chat.branches import tree
from meatlizard.chat.models import ArchiveStatus, ChatMessage, ChatSession, MessageStatus, Role
from meatlizard.chat.presets import PRESETS
from meatlizard.chat.schemas import (
    MessageRead,
    SessionCreate,
    SessionDetail,
    SessionRead,
    SessionUpdate,
)
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
        title_auto=not (data.title or "").strip(),
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


async def list_sessions(
    db: AsyncSession, *, user: User, query: str | None = None, limit: int = 100
) -> list[ChatSession]:
    """Return the user's sessions, most recently active first; `query` matches title or text."""
    statement = select(ChatSession).where(ChatSession.user_id == user.id)
    if query and query.strip():
        pattern = "%" + _escape_like(query.strip().lower()) + "%"
        in_text = select(ChatMessage.session_id).where(
            func.lower(ChatMessage.content).like(pattern, escape="\\")
        )
        statement = statement.where(
            or_(
                func.lower(ChatSession.title).like(pattern, escape="\\"),
                ChatSession.id.in_(in_text),
            )
        )
    rows = await db.scalars(statement.order_by(ChatSession.updated_at.desc()).limit(limit))
    return list(rows)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
    if data.title is not None:
        session.title_auto = False  # a name the user chose is never replaced
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
    """Return the branch that is shown, first message first."""
    leaf = await db.scalar(select(ChatSession.current_leaf_id).where(ChatSession.id == session_id))
    return (await tree(db, session_id=session_id)).branch(leaf)


async def shown_messages(db: AsyncSession, *, session: ChatSession) -> list[MessageRead]:
    """Return the shown branch, each message with the ids of its versions."""
    messages = await tree(db, session_id=session.id)
    return [
        MessageRead.model_validate(m).model_copy(update={"versions": messages.versions(m)})
        for m in messages.branch(session.current_leaf_id)
    ]


async def detail(db: AsyncSession, *, session: ChatSession) -> SessionDetail:
    """Return a session with its shown branch."""
    return SessionDetail.model_validate(
        {
            **SessionRead.model_validate(session).model_dump(),
            "current_leaf_id": session.current_leaf_id,
            "messages": await shown_messages(db, session=session),
        }
    )


async def all_messages(db: AsyncSession, *, session_id: str) -> list[ChatMessage]:
    """Return every message of a session, every version and branch, in order."""
    rows = await db.scalars(
        select(ChatMessage).where(ChatMessage.session_id == session_id).order_by(ChatMessage.id)
    )
    return list(rows)


async def add_user_message(
    db: AsyncSession, *, session: ChatSession, content: str, replaces: int | None = None
) -> ChatMessage:
    """Store a prompt after the shown branch, or beside the prompt it `replaces` (an edit).

    The first prompt of a chat not named by its user becomes its title.
    """
    parent_id = session.current_leaf_id
    if replaces is not None:
        edited = await db.get(ChatMessage, replaces)
        if edited is None or edited.session_id != session.id or edited.role is not Role.USER:
            raise NotFound("no such prompt in this chat")
        parent_id = edited.parent_id
    message = ChatMessage(session_id=session.id, role=Role.USER, content=content)
    message.parent_id = parent_id
    db.add(message)
    if session.title_auto:
        title = " ".join(content.split())
        session.title = title[:AUTO_TITLE_CHARS] + ("…" if len(title) > AUTO_TITLE_CHARS else "")
        session.title_auto = False
    await db.flush()
    session.current_leaf_id = message.id
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
    prompt_id: int | None = None,
) -> ChatMessage:
    """Store an answer to `prompt_id` (default: the shown branch's end) and show it."""
    message = ChatMessage(
        session_id=session.id,
        parent_id=prompt_id if prompt_id is not None else session.current_leaf_id,
        role=Role.ASSISTANT,
        content=content,
        status=status,
        model_alias=model_alias,
        is_fallback=is_fallback,
        token_count=token_count,
        tokens_per_second=round(tokens_per_second, 2),
    )
    db.add(message)
    await db.flush()
    session.current_leaf_id = message.id
    session.updated_at = utcnow()
    await db.commit()
    return message


async def prompt_to_answer_again(
    db: AsyncSession, *, session: ChatSession
) -> tuple[ChatMessage, list[ChatMessage]]:
    """Return the shown branch's last prompt and the branch up to it (to regenerate).

    The answers already given stay as earlier versions; the new one is added beside them.
    """
    branch = await history(db, session_id=session.id)
    last = next((i for i in range(len(branch) - 1, -1, -1) if branch[i].role is Role.USER), None)
    if last is None:
        raise InvalidInput("there is no prompt to answer again yet")
    return branch[last], branch[: last + 1]


async def branch_before(
    db: AsyncSession, *, session: ChatSession, replaces: int | None
) -> list[ChatMessage]:
    """Return the messages a new prompt follows: the shown branch, or for an edit of
    `replaces`, the branch up to the prompt it replaces."""
    if replaces is None:
        return await history(db, session_id=session.id)
    messages = await tree(db, session_id=session.id)
    edited = messages.messages.get(replaces)
    if edited is None or edited.role is not Role.USER:
        raise NotFound("no such prompt in this chat")
    return messages.branch(edited.parent_id)


def conversation_turns(messages: list[ChatMessage]) -> list[Turn]:
    """Return the history as model turns, leaving out answers that failed."""
    return [
        Turn(m.role.value, m.content)
        for m in messages
        if not (m.role is Role.ASSISTANT and m.status is MessageStatus.FAILED)
    ]


async def delete_message(db: AsyncSession, *, message_id: int) -> None:
    """Remove one message (a prompt the model could not take); its parent is shown again."""
    message = await db.get(ChatMessage, message_id)
    if message is None:
        return
    session = await db.get(ChatSession, message.session_id)
    if session is not None and session.current_leaf_id == message_id:
        session.current_leaf_id = message.parent_id
    await db.execute(delete(ChatMessage).where(ChatMessage.id == message_id))
    await db.commit()
