"""Admin API and page: the requests switch, backups and the audit log."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meatlizard.admin import audit, listing, service
from meatlizard.admin import users as admin_users
from meatlizard.api.deps import AdminUser, DbDep, RowId, SettingsDep, StorageDep
from meatlizard.auth import invites
from meatlizard.auth.invites import InviteCreate, InviteRead
from meatlizard.auth.models import User
from meatlizard.backups import service as backup_service
from meatlizard.backups.target import backup_target
from meatlizard.chat.deps import SessionEnderDep
from meatlizard.core.errors import Unavailable
from meatlizard.core.storage import StorageError
from meatlizard.inference.deps import InferenceDep
from meatlizard.relay.models import WorkerMetric

router = APIRouter(prefix="/admin", tags=["admin"])


class RequestsSwitch(BaseModel):
    """Whether new AI chat requests are accepted."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool


@router.get("/requests", response_model=RequestsSwitch)
async def get_requests_switch(user: AdminUser, db: DbDep) -> RequestsSwitch:
    """Say whether new AI chat requests are accepted."""
    return RequestsSwitch(enabled=await service.requests_enabled(db))


@router.put("/requests", response_model=RequestsSwitch)
async def put_requests_switch(body: RequestsSwitch, user: AdminUser, db: DbDep) -> RequestsSwitch:
    """Accept or pause new AI chat requests (web and Discord alike)."""
    return RequestsSwitch(
        enabled=await service.set_requests_enabled(db, actor=user, enabled=body.enabled)
    )


class UserChange(BaseModel):
    """Role and status changes for one account."""

    model_config = ConfigDict(extra="forbid")

    is_admin: bool | None = None
    is_active: bool | None = None


class Transfer(BaseModel):
    """Who a session goes to."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)


def _user_row(user: User, sessions: int | None = None) -> dict[str, object]:
    row: dict[str, object] = {
        "id": user.id,
        "username": user.username,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
    }
    if sessions is not None:
        row["sessions"] = sessions
    return row


@router.get("/users")
async def users(user: AdminUser, db: DbDep) -> list[dict[str, object]]:
    """List accounts with their roles, status and number of chats."""
    return [_user_row(u, n) for u, n in await admin_users.list_users(db, actor=user)]


@router.patch("/users/{user_id}")
async def change_user(
    user_id: RowId, body: UserChange, user: AdminUser, db: DbDep
) -> dict[str, object]:
    """Make an account admin or not, disable or enable it."""
    changed = await admin_users.update_user(
        db, actor=user, user_id=user_id, is_admin=body.is_admin, is_active=body.is_active
    )
    return _user_row(changed)


@router.post("/invites", status_code=201, response_model=InviteRead)
async def create_invite(body: InviteCreate, user: AdminUser, db: DbDep) -> InviteRead:
    """Make a single-use invite code for REGISTRATION=invite-only (shown only here)."""
    return await invites.create_invite(db, actor=user, hours=body.expires_in_hours)


@router.get("/invites", response_model=list[InviteRead])
async def list_invites(user: AdminUser, db: DbDep) -> list[InviteRead]:
    """List invite codes (without the codes) and who used them."""
    return await invites.list_invites(db)


@router.delete("/invites/{invite_id}", status_code=204)
async def delete_invite(invite_id: RowId, user: AdminUser, db: DbDep) -> None:
    """Withdraw an invite code."""
    await invites.delete_invite(db, invite_id=invite_id)


@router.get("/sessions")
async def sessions(
    user: AdminUser,
    db: DbDep,
    q: Annotated[str, Query(max_length=listing.MAX_FILTER_CHARS)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> list[dict[str, object]]:
    """List chat sessions of every user, latest activity first, 50 a page; `q` filters by
    title or owner name."""
    found = await listing.session_page(db, actor=user, query=q, number=page)
    return [
        {
            "id": s.id,
            "title": s.title,
            "owner": owner,
            "messages": n,
            "updated_at": s.updated_at.isoformat(),
            "ended": s.ended_at is not None,
        }
        for s, owner, n in found.rows
    ]


@router.post("/sessions/{session_id}/transfer")
async def transfer(session_id: str, body: Transfer, user: AdminUser, db: DbDep) -> dict[str, str]:
    """Give a chat session to another user."""
    session = await admin_users.transfer_session(
        db, actor=user, session_id=session_id, to_username=body.username
    )
    return {"id": session.id, "owner": body.username}


@router.post("/sessions/{session_id}/end")
async def end(
    session_id: str, user: AdminUser, db: DbDep, end_session: SessionEnderDep
) -> dict[str, object]:
    """End someone's chat session (writing its transcript if its owner opted in)."""
    session = await end_session(
        db, partial(admin_users.end_any_session, actor=user, session_id=session_id)
    )
    return {"id": session.id, "ended": session.ended_at is not None}


@router.get("/metrics")
async def worker_metrics(user: AdminUser, db: DbDep, inference: InferenceDep) -> dict[str, object]:
    """Inference state now, and the newest stored client-bot metrics."""
    rows = await db.scalars(select(WorkerMetric).order_by(WorkerMetric.id.desc()).limit(200))
    return {
        "inference": inference.status(),
        "worker_metrics": [
            {
                "worker_id": m.worker_id,
                "at": m.at.isoformat(),
                "is_online": m.is_online,
                "busy": m.busy,
                "tokens_per_second": m.tokens_per_second,
                "gpu_stats": {
                    "utilization": m.gpu_utilization,
                    "memory_free": m.gpu_memory_free,
                    "memory_used": m.gpu_memory_used,
                    "temperature": m.gpu_temperature,
                },
            }
            for m in rows
        ],
    }


@router.get("/backups")
async def backups(
    user: AdminUser, settings: SettingsDep, storage: StorageDep
) -> list[dict[str, object]]:
    """List the stored backups (BACKUP_TARGET, or the data storage), newest first."""
    try:
        async with backup_target(settings, storage) as target:
            found = await backup_service.list_backups(storage, target)
    except StorageError as exc:
        raise Unavailable(str(exc)) from exc
    return [vars(info) for info in found]


@router.post("/backups", status_code=201)
async def create_backup(
    user: AdminUser, db: DbDep, settings: SettingsDep, storage: StorageDep
) -> dict[str, object]:
    """Back the database and new stored objects up to BACKUP_TARGET now."""
    try:
        async with backup_target(settings, storage) as target:
            info = await backup_service.create_backup(
                database_url=settings.effective_database_url,
                storage=storage,
                target=target,
            )
    except (backup_service.BackupError, StorageError) as exc:
        raise Unavailable(f"backup failed: {exc}") from exc
    audit.record(db, action="backup.create", actor_id=user.id, target=info.key)
    await db.commit()
    return vars(info)


@router.get("/audit")
async def audit_log(user: AdminUser, db: DbDep) -> list[dict[str, object]]:
    """Return the newest audit entries."""
    entries = await service.recent_audit(db, actor=user)
    return [
        {
            "at": e.at.isoformat(),
            "actor_id": e.actor_id,
            "action": e.action,
            "target": e.target,
            "detail": e.detail,
        }
        for e in entries
    ]
