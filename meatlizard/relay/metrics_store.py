"""Keep client-bot metrics snapshots for the admin dashboard, whichever transport brought them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.relay.models import WorkerMetric
from meatlizard.relay.wire import ClientMetricsPayload


async def store_worker_metric(
    sessions: async_sessionmaker[AsyncSession],
    *,
    worker_id: str,
    busy: bool,
    metrics: ClientMetricsPayload,
) -> None:
    """Store one snapshot of one worker."""
    gpu = metrics.gpu_stats
    async with sessions() as db:
        db.add(
            WorkerMetric(
                worker_id=worker_id,
                is_online=metrics.is_online,
                busy=busy,
                tokens_per_second=metrics.tokens_per_second,
                gpu_utilization=gpu.utilization,
                gpu_memory_free=gpu.memory_free,
                gpu_memory_used=gpu.memory_used,
                gpu_temperature=gpu.temperature,
            )
        )
        await db.commit()
