"""Your web notifications: list and dismiss."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from meatlizard.api.deps import CurrentUser, DbDep, RowId
from meatlizard.notifications import service

router = APIRouter(prefix="/notifications", tags=["notifications"])


class NotificationRead(BaseModel):
    """A message for you; `link` is a button such as a transcript download."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    message: str
    link: str | None
    link_label: str | None
    created_at: datetime


@router.get("", response_model=list[NotificationRead])
async def list_notifications(user: CurrentUser, db: DbDep) -> list[NotificationRead]:
    """List your unread notifications, newest first."""
    notes = await service.unread(db, user_id=user.id)
    return [NotificationRead.model_validate(n) for n in notes]


@router.post("/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def dismiss(notification_id: RowId, user: CurrentUser, db: DbDep) -> None:
    """Dismiss one notification."""
    await service.dismiss(db, user_id=user.id, notification_id=notification_id)
