"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from meatlizard.admin import dashboard
from meatlizard.admin.service import requests_enabled
from meatlizard.api.deps import SESSION_COOKIE
from meatlizard.api.edge_headers import is_loopback
from meatlizard.api.errors import ErrorOut
from meatlizard.auth import service as auth_service
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
from meatlizard.core.security import same_secret
from meatlizard.runtime import Services

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 5.0


async def get_services(request: Request) -> Services:
    """Return the whole container: readiness and metrics look at every resource it holds."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


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


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials else None


def _has_metrics_token(request: Request, services: Services) -> bool:
    expected = services.settings.metrics_token
    sent = _bearer(request)
    return bool(expected and sent and same_secret(sent, expected.get_secret_value()))


async def _is_admin(request: Request, services: Services) -> bool:
    """Return True for an admin's token or session; False when unsure (the database is down)."""
    raw = _bearer(request) or request.cookies.get(SESSION_COOKIE)
    if not raw:
        return False
    try:
        async with services.sessions() as db:
            user = await auth_service.user_for_token(db, raw=raw)
    except Exception:
        return False
    return user is not None and user.is_admin


@router.get(
    "/readyz",
    responses={
        200: {"description": '`{"status": "ready"}`; admins also get checks and inference'},
        503: {"description": '`{"status": "unavailable"}`, with details for admins'},
    },
)
async def readyz(request: Request, services: ServicesDep) -> Response:
    """Check the database, cache and storage (503 if not ready); details for admins only."""
    checks = {
        "database": await _check(db_ping(services.engine)),
        "cache": await _check(services.cache.ping()),
        "storage": await _check(services.storage.ping()),
    }
    inference = services.inference.status()
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable"}
    if _has_metrics_token(request, services) or await _is_admin(request, services):
        body.update(checks=checks, inference=inference)
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        401: {"model": ErrorOut, "description": "METRICS_TOKEN is set and was not sent"},
        403: {"model": ErrorOut, "description": "no METRICS_TOKEN: only this machine may read"},
    },
)
async def metrics(request: Request, services: ServicesDep) -> Response:
    """Expose Prometheus metrics (METRICS_TOKEN as a bearer token, or from this machine)."""
    if services.settings.metrics_token is not None:
        if not _has_metrics_token(request, services):
            raise HTTPException(
                401, "send Authorization: Bearer <METRICS_TOKEN>", {"WWW-Authenticate": "Bearer"}
            )
    elif not is_loopback(request.client.host if request.client else None):
        raise HTTPException(403, "metrics are served to this machine only; set METRICS_TOKEN")
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
