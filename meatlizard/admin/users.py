"""Admin actions on accounts and chat sessions; every change is audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.admin.service import require_admin
from meatlizard.auth.models import AuthToken, User
from meatlizard.chat.models import ArchiveStatus, ChatSession
from meatlizard.core.db import utcnow
from meatlizard.core.errors import Conflict, NotFound

PAGE_SIZE = 200


async def list_users(db: AsyncSession, *, actor: User) -> list[tuple[User, int]]:
    """Return every account with its number of chat sessions."""
    require_admin(actor)
    counts = (
        select(ChatSession.user_id, func.count().label("n"))
        .group_by(ChatSession.user_id)
        .subquery()
    )
    rows = await db.execute(
        select(User, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.user_id == User.id)
        .order_by(User.id)
        .limit(PAGE_SIZE)
    )
    return [(user, int(n)) for user, n in rows.all()]


async def update_user(
    db: AsyncSession,
    *,
    actor: User,
    user_id: int,
    is_admin: bool | None = None,
    is_active: bool | None = None,
) -> User:
    """Grant or revoke admin, disable or enable an account (never the last active admin)."""
    require_admin(actor)
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    losing_admin = (is_admin is False or is_active is False) and user.is_admin and user.is_active
    if losing_admin:
        # Locked (PostgreSQL), so two admins demoting each other at once cannot both pass.
        admins = await db.scalars(
            select(User.id).where(User.is_admin, User.is_active).with_for_update()
        )
        if len(admins.all()) <= 1:
            raise Conflict("that would leave no active admin; promote someone else first")
    changes: dict[str, bool] = {}
    if is_admin is not None and is_admin != user.is_admin:
        user.is_admin = changes["is_admin"] = is_admin
    if is_active is not None and is_active != user.is_active:
        user.is_active = changes["is_active"] = is_active
        if not is_active:  # a disabled account is logged out everywhere at once
            for token in await db.scalars(select(AuthToken).where(AuthToken.user_id == user.id)):
                await db.delete(token)
    if changes:
        audit.record(db, action="user.update", actor_id=actor.id, target=user.username, **changes)
    await db.commit()
    return user


async def transfer_session(
    db: AsyncSession, *, actor: User, session_id: str, to_username: str
) -> ChatSession:
    """Give a chat session (and its history) to another account."""
    require_admin(actor)
    session = await db.get(ChatSession, session_id)
    if session is None:
        raise NotFound("no such chat session")
    target = await db.scalar(select(User).where(User.username_key == to_username.lower()))
    if target is None or not target.is_active:
        raise NotFound(f"no active user named {to_username!r}")
    previous = session.user_id
    session.user_id = target.id
    audit.record(
        db,
        action="session.transfer",
        actor_id=actor.id,
        target=session_id,
        from_user_id=previous,
        to_user_id=target.id,
    )
    await db.commit()
    return session


async def end_any_session(
    db: AsyncSession, *, actor: User, session_id: str
) -> tuple[ChatSession, bool]:
    """End someone's chat session; return it and whether its opted-in transcript is due."""
    require_admin(actor)
    session = await db.get(ChatSession, session_id)
    if session is None:
        raise NotFound("no such chat session")
    archive = False
    if session.ended_at is None:
        session.ended_at = utcnow()
        archive = session.save_transcript and session.archive_status is None
        if archive:
            session.archive_status = ArchiveStatus.ARCHIVING
        audit.record(db, action="session.end", actor_id=actor.id, target=session_id)
        await db.commit()
    return session, archive
