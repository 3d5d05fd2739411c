"""Tell a user something on the web; list and dismiss what is waiting."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.core.db import utcnow
from meatlizard.core.errors import NotFound
from meatlizard.notifications.models import Notification

SHOWN_AT_MOST = 20


def notify(
    db: AsyncSession,
    *,
    user_id: int,
    kind: str,
    message: str,
    link: str | None = None,
    link_label: str | None = None,
) -> Notification:
    """Add a notification to the current transaction (committed with it)."""
    note = Notification(
        user_id=user_id, kind=kind, message=message, link=link, link_label=link_label
    )
    db.add(note)
    return note


async def unread(db: AsyncSession, *, user_id: int) -> list[Notification]:
    """Return the user's notifications not yet dismissed, newest first."""
    rows = await db.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .order_by(Notification.id.desc())
        .limit(SHOWN_AT_MOST)
    )
    return list(rows)


async def dismiss(db: AsyncSession, *, user_id: int, notification_id: int) -> None:
    """Mark one of the user's notifications as read."""
    note = await db.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        raise NotFound("no such notification")
    if note.read_at is None:
        note.read_at = utcnow()
        await db.commit()
