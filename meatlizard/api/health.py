"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from meatlizard.admin import dashboard
from meatlizard.admin.service import requests_enabled
from meatlizard.api.deps import ServicesDep
from meatlizard.core.db import ping as db_ping
from meatlizard.core.metrics import (
    ACTIVE_SESSIONS,
    INFERENCE_READY,
    QUEUE_DEPTH,
    REQUESTS_ENABLED,
    WORKER_GPU,
    WORKER_TOKENS_PER_SECOND,
    WORKERS_ONLINE,
)

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 5.0


async def _check(coro: Any) -> str:
    try:
        await asyncio.wait_for(coro, CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer as long as the process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> Response:
    """Check the database, cache and storage, and report the inference state (503 if not ready)."""
    checks = {
        "database": await _check(db_ping(services.engine)),
        "cache": await _check(services.cache.ping()),
        "storage": await _check(services.storage.ping()),
    }
    inference = services.inference.status()
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks, "inference": inference}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> Response:
    """Expose Prometheus metrics."""
    status = services.inference.status()
    INFERENCE_READY.set(1 if status.get("state") == "ready" else 0)
    workers = status.get("workers")
    WORKERS_ONLINE.set(len(workers) if isinstance(workers, dict) else 0)
    depth = status.get("queue_depth")
    QUEUE_DEPTH.set(depth if isinstance(depth, int) else 0)
    async with services.sessions() as db:
        ACTIVE_SESSIONS.set(await dashboard.active_sessions(db))
        REQUESTS_ENABLED.set(1 if await requests_enabled(db) else 0)
        latest = await dashboard.latest_worker_metrics(db)
    WORKER_TOKENS_PER_SECOND.clear()
    WORKER_GPU.clear()
    for m in latest:
        WORKER_TOKENS_PER_SECOND.labels(worker=m.worker_id).set(m.tokens_per_second)
        gpu = {
            "utilization": m.gpu_utilization,
            "memory_free": m.gpu_memory_free,
            "memory_used": m.gpu_memory_used,
            "temperature": m.gpu_temperature,
        }
        for stat, value in gpu.items():
            if value is not None:
                WORKER_GPU.labels(worker=m.worker_id, stat=stat).set(value)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
