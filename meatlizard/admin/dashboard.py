"""Numbers for the admin dashboard: storage usage, worker metrics and series over time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.chat.models import ChatMessage, ChatSession, Role
from meatlizard.core.db import utcnow
from meatlizard.core.storage import ObjectStorage
from meatlizard.relay.models import WorkerMetric

ACTIVE_WINDOW = timedelta(minutes=30)
SERIES_HOURS = 24
MAX_SAMPLES = 20_000


@dataclass(frozen=True)
class StorageUsage:
    """Objects and bytes under one top-level folder of object storage."""

    prefix: str
    objects: int
    bytes: int


@dataclass(frozen=True)
class Traffic:
    """Counters of this web process since it started (the same numbers as /metrics)."""

    redirects: int
    uploads: int
    uploaded_bytes: int


def traffic() -> Traffic:
    """Read the redirect and upload counters from the Prometheus registry."""

    def sample(name: str, **labels: str) -> int:
        return int(REGISTRY.get_sample_value(name, labels) or 0)

    return Traffic(
        redirects=sample("meatlizard_redirects_total"),
        uploads=sample("meatlizard_uploads_total", kind="file"),
        uploaded_bytes=sample("meatlizard_uploaded_bytes_total"),
    )


@dataclass(frozen=True)
class HourPoint:
    """One hour of chat answers: how many, and their mean generation speed."""

    hour: datetime
    answers: int
    tokens_per_second: float | None


async def storage_usage(storage: ObjectStorage) -> list[StorageUsage]:
    """Sum object sizes per top-level folder (transcripts/, backups/, files/...)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in await storage.list(""):
        prefix = item.key.split("/", 1)[0] + "/" if "/" in item.key else item.key
        totals[prefix][0] += 1
        totals[prefix][1] += item.size
    return [StorageUsage(p, n, b) for p, (n, b) in sorted(totals.items())]


async def active_sessions(db: AsyncSession) -> int:
    """Count chats not ended and used within the last half hour."""
    since = utcnow() - ACTIVE_WINDOW
    count = await db.scalar(
        select(func.count())
        .select_from(ChatSession)
        .where(ChatSession.ended_at.is_(None), ChatSession.updated_at >= since)
    )
    return int(count or 0)


async def latest_worker_metrics(db: AsyncSession) -> list[WorkerMetric]:
    """Return the newest stored metrics of every worker, by worker id."""
    newest = (
        select(WorkerMetric.worker_id, func.max(WorkerMetric.id).label("id"))
        .group_by(WorkerMetric.worker_id)
        .subquery()
    )
    rows = await db.scalars(
        select(WorkerMetric)
        .join(newest, newest.c.id == WorkerMetric.id)
        .order_by(WorkerMetric.worker_id)
    )
    return list(rows)


async def answers_per_hour(db: AsyncSession, *, hours: int = SERIES_HOURS) -> list[HourPoint]:
    """Return the last hours of model answers: count and mean tokens/s, oldest first."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours - 1)
    rows = await db.execute(
        select(ChatMessage.created_at, ChatMessage.tokens_per_second, ChatMessage.is_fallback)
        .where(ChatMessage.role == Role.ASSISTANT, ChatMessage.created_at >= start)
        .order_by(ChatMessage.id.desc())
        .limit(MAX_SAMPLES)
    )
    counts: dict[datetime, int] = defaultdict(int)
    speeds: dict[datetime, list[float]] = defaultdict(list)
    for created, speed, is_fallback in rows.all():
        hour = created.replace(minute=0, second=0, microsecond=0)
        counts[hour] += 1
        if speed and not is_fallback:
            speeds[hour].append(speed)
    points = []
    for i in range(hours):
        hour = start + timedelta(hours=i)
        values = speeds.get(hour)
        points.append(
            HourPoint(hour, counts.get(hour, 0), sum(values) / len(values) if values else None)
        )
    return points


async def worker_series(
    db: AsyncSession, *, hours: int = SERIES_HOURS
) -> dict[str, list[WorkerMetric]]:
    """Return each worker's stored metrics of the last hours, oldest first."""
    since = utcnow() - timedelta(hours=hours)
    rows = await db.scalars(
        select(WorkerMetric)
        .where(WorkerMetric.at >= since)
        .order_by(WorkerMetric.id.desc())
        .limit(MAX_SAMPLES)
    )
    series: dict[str, list[WorkerMetric]] = defaultdict(list)
    for metric in reversed(list(rows)):
        series[metric.worker_id].append(metric)
    return dict(series)
