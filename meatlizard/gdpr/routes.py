"""Your personal data: export it, anonymise it, or delete the account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from meatlizard.api.deps import (
    SESSION_COOKIE,
    CacheDep,
    CurrentUser,
    DbDep,
    SessionMakerDep,
    StorageDep,
)
from meatlizard.auth.models import User
from meatlizard.chat.deps import SessionEventsDep
from meatlizard.chat.models import ChatSession
from meatlizard.chat.session_events import SessionChange, changed
from meatlizard.core.errors import Conflict, Unauthenticated
from meatlizard.core.security import verify_password
from meatlizard.gdpr import service

router = APIRouter(prefix="/auth/me", tags=["privacy"])


class Confirmation(BaseModel):
    """Proof the request is deliberate: the account's password."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)


async def _check_password(user_hash: str, password: str) -> None:
    if not await verify_password(user_hash, password):
        raise Unauthenticated("wrong password; nothing was changed")


@router.get("/export")
async def export_data(user: CurrentUser, db: DbDep, storage: StorageDep) -> Response:
    """Download everything stored about you as a zip (JSON plus transcript files)."""
    archive = await service.export(db, storage, user=user)

    def chunks() -> Any:
        with archive:
            while chunk := archive.read(64 * 1024):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="meatlizard-export.zip"'},
    )


@router.post("/anonymize")
async def anonymize(
    body: Confirmation,
    user: CurrentUser,
    sessions: SessionMakerDep,
    storage: StorageDep,
    cache: CacheDep,
) -> dict[str, Any]:
    """Replace your name everywhere with an anonymous id; you are logged out for good."""
    await _check_password(user.password_hash, body.password)
    report = await service.anonymize(sessions, storage, user_id=user.id, cache=cache)
    return service.report_dict(report)


@router.delete("")
async def delete_account(
    body: Confirmation,
    user: CurrentUser,
    db: DbDep,
    storage: StorageDep,
    cache: CacheDep,
    session_events: SessionEventsDep,
) -> Response:
    """Delete your account and everything it owns."""
    await _check_password(user.password_hash, body.password)
    if user.is_admin:
        admins = await db.scalar(
            select(func.count()).select_from(User).where(User.is_admin, User.is_active)
        )
        if (admins or 0) <= 1:
            raise Conflict("you are the only admin; make someone else an admin first")
    owned = list(await db.scalars(select(ChatSession.id).where(ChatSession.user_id == user.id)))
    events = await changed(db, owned, SessionChange.DELETED)  # the links go with the account
    counts = await service.delete_account(db, storage, user=user, cache=cache)
    await session_events.publish(events)
    response = JSONResponse({"deleted": counts})
    response.delete_cookie(SESSION_COOKIE)
    return response
