"""Which workers are online: their presence records, and one metrics snapshot per interval."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.relay import redis_keys as keys
from meatlizard.relay.metrics_store import store_worker_metric
from meatlizard.relay.wire import ClientMetricsPayload, EnvelopeError, PayloadSealer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerInfo:
    """A worker's presence record."""

    worker_id: str
    aliases: list[str]
    busy: bool
    free: int = 0  # slots announced free in the last heartbeat
    resumes: bool = False  # a take-over by it goes on with the text shown (the Discord relay)


async def read_workers(client: redis.Redis) -> dict[str, tuple[WorkerInfo, bytes | None]]:
    """Return the workers online now (their keys expire when they stop), with sealed metrics."""
    found: dict[str, tuple[WorkerInfo, bytes | None]] = {}
    async for key in client.scan_iter(match=keys.WORKER_PREFIX + "*", count=100):
        record = await client.hgetall(key)
        if not record:
            continue
        worker_id = key.decode().removeprefix(keys.WORKER_PREFIX)
        info = WorkerInfo(
            worker_id,
            json.loads(record.get(b"aliases", b"[]")),
            record.get(b"busy") == b"1",
            int(record.get(b"free", b"0") or 0),
            record.get(b"resumes") == b"1",
        )
        sealed = record.get(b"metrics")
        found[worker_id] = (info, sealed if isinstance(sealed, bytes) else None)
    return found


class MetricsKeeper:
    """Keeps one metrics snapshot per worker per interval in the database."""

    def __init__(
        self,
        sealer: PayloadSealer,
        sessions: async_sessionmaker[AsyncSession] | None,
        interval_seconds: float,
    ) -> None:
        self._sealer = sealer
        self._sessions = sessions
        self._interval = interval_seconds
        self._saved: dict[str, float] = {}

    async def keep(self, worker: WorkerInfo, sealed: bytes | None) -> None:
        now = time.monotonic()
        last = self._saved.get(worker.worker_id)
        if self._sessions is None or sealed is None:
            return
        if last is not None and now - last < self._interval:
            return
        try:
            metrics = self._sealer.open_snapshot(sealed)
        except EnvelopeError as exc:
            log.warning("worker %s sent metrics that fail to open: %s", worker.worker_id, exc)
            return
        if not isinstance(metrics, ClientMetricsPayload):
            return
        self._saved[worker.worker_id] = now
        await store_worker_metric(
            self._sessions, worker_id=worker.worker_id, busy=worker.busy, metrics=metrics
        )
