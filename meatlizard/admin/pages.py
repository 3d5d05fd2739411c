"""The admin dashboard page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from meatlizard.admin import charts, dashboard, listing, moderation, service
from meatlizard.api.deps import DbDep, OptionalUser, SettingsDep, StorageDep
from meatlizard.auth.models import User
from meatlizard.backups import service as backup_service
from meatlizard.core.db import utcnow
from meatlizard.files import quotas
from meatlizard.files.deps import FilePolicyDep
from meatlizard.inference.deps import InferenceDep
from meatlizard.inference.service import InferenceGateway
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    storage: StorageDep,
    policy: FilePolicyDep,
    inference: InferenceDep,
    users_q: str = "",
    users_page: Annotated[int, Query(ge=1)] = 1,
    sessions_q: str = "",
    sessions_page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/admin", status_code=303)
    if not user.is_admin:
        return render(
            request,
            "forbidden.html",
            user=user,
            status_code=403,
            message="The admin area is for admins only.",
        )
    audit = await service.recent_audit(db, actor=user)
    actor_ids = {e.actor_id for e in audit if e.actor_id is not None}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(actor_ids)))
    actors = {actor_id: name for actor_id, name in rows}
    users = await listing.user_page(db, actor=user, query=users_q, number=users_page)
    sessions = await listing.session_page(db, actor=user, query=sessions_q, number=sessions_page)
    backups, backup_problem = await backup_service.list_configured(settings, storage)
    return render(
        request,
        "admin.html",
        user=user,
        section="admin",
        requests_enabled=await service.requests_enabled(db),
        audit=audit,
        actors=actors,
        backups=backups,
        backup_problem=backup_problem,
        backup_target=settings.backup_target,
        users=users,
        storage_of=await quotas.usage_of_all(db, [u.id for u, _ in users.rows], policy),
        sessions=sessions,
        reports=await moderation.list_reports(db, actor=user, status=moderation.OPEN),
        moderation=await moderation.moderation_lists(db),
        storage=await dashboard.storage_usage(storage),
        **await _live(db, inference),
    )


@router.get("/admin/live", response_class=HTMLResponse)
async def admin_live(
    request: Request, user: OptionalUser, db: DbDep, inference: InferenceDep
) -> Response:
    """The dashboard's live part (counters, charts, inference), which the page polls."""
    if user is None or not user.is_admin:
        status = 401 if user is None else 403
        return Response("admins only; log in as an admin", status_code=status)
    return render(request, "_admin_live.html", user=user, **await _live(db, inference))


DAY_SPAN = ("24 h ago", "now")


def _span(series: list[Any]) -> tuple[str, str]:
    """Return the times of a worker series' first and last samples (UTC)."""
    return f"{series[0].at:%H:%M}", f"{series[-1].at:%H:%M} UTC"


async def _live(db: DbDep, inference: InferenceGateway) -> dict[str, Any]:
    """What the live part of the dashboard shows."""
    hours = await dashboard.answers_per_hour(db)
    workers = await dashboard.worker_series(db)
    worker_charts = [
        charts.line_chart(
            [m.tokens_per_second for m in series],
            label=f"Worker {worker}: tokens/s",
            unit=" tok/s",
            x_labels=_span(series),
        )
        for worker, series in workers.items()
    ]
    gpu_charts = [
        charts.line_chart(
            [m.gpu_utilization for m in series],
            label=f"Worker {worker}: GPU utilisation",
            unit=" %",
            x_labels=_span(series),
        )
        for worker, series in workers.items()
        if any(m.gpu_utilization is not None for m in series)
    ]
    return {
        "now": utcnow(),
        "inference": inference.status(),
        "latest_workers": await dashboard.latest_worker_metrics(db),
        "active_sessions": await dashboard.active_sessions(db),
        "traffic": dashboard.traffic(),
        "charts": [
            charts.line_chart(
                [h.answers for h in hours], label="Answers per hour (24 h)", x_labels=DAY_SPAN
            ),
            charts.line_chart(
                [h.tokens_per_second for h in hours],
                label="Model tokens/s, hourly mean (24 h)",
                unit=" tok/s",
                x_labels=DAY_SPAN,
            ),
            *worker_charts,
            *gpu_charts,
        ],
    }
