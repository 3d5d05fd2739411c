"""Platform switches that admins control."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.admin.models import AppSetting, AuditEntry
from meatlizard.auth.models import User
from meatlizard.core.errors import Forbidden

REQUESTS_ENABLED = "requests_enabled"


def require_admin(user: User) -> None:
    """Raise Forbidden unless the user is an admin."""
    if not user.is_admin:
        raise Forbidden("this needs an admin account")


async def requests_enabled(db: AsyncSession) -> bool:
    """Return whether new chat requests are accepted (on unless an admin turned it off)."""
    setting = await db.get(AppSetting, REQUESTS_ENABLED)
    return True if setting is None else bool(setting.value)


async def set_requests_enabled(db: AsyncSession, *, actor: User, enabled: bool) -> bool:
    """Turn new chat requests on or off, on the web and on Discord alike."""
    require_admin(actor)
    setting = await db.get(AppSetting, REQUESTS_ENABLED)
    if setting is None:
        db.add(AppSetting(key=REQUESTS_ENABLED, value=enabled))
    else:
        setting.value = enabled
    audit.record(db, action="requests.enable" if enabled else "requests.disable", actor_id=actor.id)
    await db.commit()
    return enabled


async def recent_audit(db: AsyncSession, *, actor: User, limit: int = 50) -> list[AuditEntry]:
    """Return the newest audit entries (admins only)."""
    require_admin(actor)
    rows = await db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return list(rows)
