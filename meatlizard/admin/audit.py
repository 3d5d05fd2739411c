"""Append entries to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.models import AuditEntry


def record(
    db: AsyncSession, *, action: str, actor_id: int | None, target: str = "", **detail: Any
) -> None:
    """Add an audit entry to the current transaction (committed with it)."""
    db.add(AuditEntry(action=action, actor_id=actor_id, target=target[:128], detail=detail))
