"""Content reports in a user's personal data: exported and anonymised, kept on deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.models import ContentReport
from meatlizard.auth.models import User
from meatlizard.gdpr.providers import PersonalData, Scrub


async def _reports(db: AsyncSession, user: User) -> list[ContentReport]:
    query = select(ContentReport).where(ContentReport.reporter_id == user.id)
    return list(await db.scalars(query))


async def _export_reports(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    return [
        {
            "content_type": r.content_type,
            "content_id": r.content_id,
            "reason": r.reason,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in await _reports(db, user)
    ]


async def _anonymize_reports(db: AsyncSession, user: User, scrub: Scrub) -> int:
    changed = 0
    for report in await _reports(db, user):
        reason = scrub(report.reason)
        if reason != report.reason:
            report.reason = reason
            changed += 1
    return changed


async def _count_reports(db: AsyncSession, user: User) -> int:
    return 0  # reports outlive their reporter (reporter_id becomes NULL) for the admins' record


PERSONAL_DATA = PersonalData(  # registered by the runtime
    "content_reports", _export_reports, _anonymize_reports, _count_reports
)
