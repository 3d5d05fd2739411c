"""Admin API and page: the requests switch, backups and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from meatlizard.admin import service
from meatlizard.api.deps import AdminUser, DbDep, OptionalUser, ServicesDep
from meatlizard.backups import service as backup_service
from meatlizard.core import audit
from meatlizard.core.errors import Unavailable
from meatlizard.web.render import render

router = APIRouter(prefix="/admin", tags=["admin"])
pages = APIRouter(include_in_schema=False)


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


@router.get("/backups")
async def backups(user: AdminUser, services: ServicesDep) -> list[dict[str, object]]:
    """List the stored database backups, newest first."""
    return [vars(info) for info in await backup_service.list_backups(services.storage)]


@router.post("/backups", status_code=201)
async def create_backup(user: AdminUser, db: DbDep, services: ServicesDep) -> dict[str, object]:
    """Back the database up to object storage now."""
    try:
        info = await backup_service.create_backup(
            database_url=services.settings.effective_database_url, storage=services.storage
        )
    except backup_service.BackupError as exc:
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


@pages.get("/admin", response_class=HTMLResponse)
async def admin_page(
    request: Request, user: OptionalUser, db: DbDep, services: ServicesDep
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/admin", status_code=303)
    if not user.is_admin:
        return render(
            request,
            "not_found.html",
            user=user,
            status_code=403,
            message="The admin area is for admins only.",
        )
    return render(
        request,
        "admin.html",
        user=user,
        section="admin",
        requests_enabled=await service.requests_enabled(db),
        audit=await service.recent_audit(db, actor=user),
        inference=services.inference.status(),
        backups=await backup_service.list_backups(services.storage),
    )
