"""The FastAPI application: routers, error handling, static files, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from meatlizard import health, mine, uploads
from meatlizard.admin import ai_models, moderation_routes, report_pages
from meatlizard.admin import pages as admin_pages
from meatlizard.admin import routes as admin_routes
from meatlizard.api import openapi
from meatlizard.api.body_guard import BodyGuard
from meatlizard.api.deps import session_user
from meatlizard.api.errors import error_content, field_problems, status_for, summary
from meatlizard.api.middleware import RequestLogMiddleware
from meatlizard.api.outages import add_outage_handlers
from meatlizard.auth import discord_pages
from meatlizard.auth import pages as auth_pages
from meatlizard.auth import routes as auth_routes
from meatlizard.chat import pages as chat_pages
from meatlizard.chat import routes as chat_routes
from meatlizard.chat import socket as chat_socket
from meatlizard.core import errors
from meatlizard.core.settings import Settings
from meatlizard.files import pages as file_pages
from meatlizard.files import routes as file_routes
from meatlizard.files import tus as file_tus
from meatlizard.files.draining import watch_stop_signals
from meatlizard.gdpr import routes as gdpr_routes
from meatlizard.links import go as link_go
from meatlizard.links import pages as link_pages
from meatlizard.links import routes as link_routes
from meatlizard.links.fast import LinkFastPath
from meatlizard.notifications import routes as notification_routes
from meatlizard.openai_compat import routes as openai_routes
from meatlizard.pastes import pages as paste_pages
from meatlizard.pastes import routes as paste_routes
from meatlizard.pastes.fast import PasteFastPath
from meatlizard.runtime import Services
from meatlizard.videos import pages as video_pages
from meatlizard.videos import routes as video_routes
from meatlizard.web import pages as web_pages
from meatlizard.web.render import STATIC_DIR, render

log = logging.getLogger(__name__)


def api_router() -> APIRouter:
    """Collect every JSON API router under /api/v1."""
    api = APIRouter(prefix="/api/v1")
    # FastAPI matches a request against every router before the one that takes it (twice);
    # the busiest public write comes first. No other router's paths start with /pastes.
    api.include_router(paste_routes.router)
    api.include_router(auth_routes.router)
    api.include_router(chat_routes.router)
    api.include_router(chat_socket.router)
    api.include_router(admin_routes.router)
    api.include_router(ai_models.router)
    api.include_router(moderation_routes.router)
    api.include_router(moderation_routes.reports_router)
    api.include_router(gdpr_routes.router)
    api.include_router(link_routes.router)
    api.include_router(file_tus.router)
    api.include_router(file_routes.router)
    api.include_router(notification_routes.router)
    api.include_router(video_routes.router)
    return api


async def service_error_handler(request: Request, exc: Exception) -> Response:
    """Answer a domain error with its status and {"detail": message}."""
    assert isinstance(exc, errors.ServiceError)
    code = status_for(exc)
    headers = {}
    if isinstance(exc, errors.TooManyRequests):
        headers["Retry-After"] = str(max(1, round(exc.retry_after_seconds)))
    return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Show themed pages to browsers and JSON to API clients."""
    assert isinstance(exc, StarletteHTTPException)
    wants_html = "text/html" in request.headers.get("accept", "")
    if wants_html and not request.url.path.startswith("/api/") and exc.status_code == 404:
        return render(
            request,
            "not_found.html",
            user=await session_user(request),
            status_code=404,
            message="There is nothing at this address.",
        )
    return JSONResponse(
        error_content(exc.detail),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """Answer invalid fields with 422: a readable detail and one entry per field."""
    assert isinstance(exc, RequestValidationError)
    problems = field_problems(exc.errors())
    content: dict[str, Any] = {"detail": summary(problems), "errors": problems}
    if request.url.path.startswith("/v1/"):  # OpenAI's client libraries read this shape
        content["error"] = {"message": content["detail"], "type": "invalid_request_error"}
    return JSONResponse(content, status_code=422)


class MeatLizardApp(FastAPI):
    """FastAPI behind the request log and the link and paste fast paths (pure ASGI)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # In front of FastAPI's own stack, so a plain redirect or paste read skips its error
        # and telemetry wrappers too; an exception still reaches ServerErrorMiddleware inside.
        guard = BodyGuard(
            super().__call__, own_limit=uploads.own_limit, is_upload=uploads.is_upload
        )
        self._front = RequestLogMiddleware(LinkFastPath(PasteFastPath(guard)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # the fast paths find the services here
        await self._front(scope, receive, send)


def create_app(
    settings: Settings, *, services: Services | None = None, migrate: bool = True
) -> FastAPI:
    """Build the web application for these settings.

    With `migrate=False` the caller has brought the database up to date already (`serve`
    does, in a child process, so Alembic never loads into the server).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.build(settings)
        if owned:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            if migrate:
                from meatlizard.core.migrate import upgrade

                await upgrade(app.state.services.engine)
            await app.state.services.prepare()
            app.state.services.start()
            watch_stop_signals()  # after the server's own handlers: uploads end first
        try:
            yield
        finally:
            if owned:
                await app.state.services.close()

    app = MeatLizardApp(
        title="MeatLizard",
        version="0.1.0",
        description=(
            "AI chat, pastebin, URL shortener, file storage and video for Discord communities."
        ),
        lifespan=lifespan,
        # No OpenTelemetry here (metrics are Prometheus): skip its provider checks per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if services is not None:
        app.state.services = services
    app.add_exception_handler(errors.ServiceError, service_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    add_outage_handlers(app)

    app.include_router(api_router())
    app.include_router(health.router)
    app.include_router(openai_routes.router)
    app.include_router(auth_pages.router)
    app.include_router(discord_pages.router)
    app.include_router(chat_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(ai_models.pages)
    app.include_router(report_pages.router)
    app.include_router(paste_pages.router)
    app.include_router(link_go.router)
    app.include_router(link_pages.router)
    app.include_router(mine.router)
    app.include_router(file_pages.router)
    app.include_router(video_pages.router)
    app.include_router(web_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi.install(app)
    return app


def app_from_environment() -> FastAPI:
    """Build the app from the environment (each `serve --workers` process calls this).

    `serve` migrated the database before starting the workers.
    """
    from meatlizard.core.logging import configure
    from meatlizard.core.memory import release_large_blocks
    from meatlizard.core.settings import load_settings

    release_large_blocks()  # a worker is a fresh interpreter: the CLI's setting is not inherited
    settings = load_settings()
    configure(settings.log_level, settings.log_format)
    return create_app(settings, migrate=False)
