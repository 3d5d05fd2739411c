"""Pure ASGI middleware every HTTP request passes: request counter, access log, safety headers.

A plain ASGI wrapper instead of `@app.middleware("http")`: Starlette's BaseHTTPMiddleware
runs each request in an extra task group with memory streams, which cost more than most
of our routes themselves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meatlizard.api.deps import settings_of
from meatlizard.api.edge_headers import html_headers
from meatlizard.core.metrics import HTTP_REQUESTS

access_log = logging.getLogger("meatlizard.access")
# A handler may lower its own request's access-log level (redirects log at DEBUG).
LOG_LEVEL_KEY = "meatlizard.access_log_level"
SAFETY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
UNANSWERED = 500  # what an exception before the response started becomes


class RequestLogMiddleware:
    """Count each HTTP request, log it with its duration and add nosniff/Referrer-Policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counters: dict[tuple[str, int], Any] = {}
        self._html_headers: list[tuple[bytes, bytes]] | None = None

    def html_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """Return the page headers (CSP, X-Frame-Options), built once from the settings."""
        if self._html_headers is None:
            self._html_headers = html_headers(settings_of(scope["app"].state))
        return self._html_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = UNANSWERED

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_safety_headers(
                    message.get("headers", ()), lambda: self.html_headers(scope)
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self._count(scope["method"], status)
            level = scope.get(LOG_LEVEL_KEY, logging.INFO)
            if access_log.isEnabledFor(level):
                client = scope.get("client")
                access_log.log(
                    level,
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "client": client[0] if client else None,
                    },
                )

    def _count(self, method: str, status: int) -> None:
        # prometheus_client's labels() takes a lock and builds a key on every call.
        counter = self._counters.get((method, status))
        if counter is None:
            counter = HTTP_REQUESTS.labels(method=method, status=str(status))
            self._counters[(method, status)] = counter
        counter.inc()


def with_safety_headers(
    headers: Any, page_headers: Callable[[], list[tuple[bytes, bytes]]] | None = None
) -> list[tuple[bytes, bytes]]:
    """Return the raw headers plus nosniff, Referrer-Policy and, on HTML, CSP unless set."""
    headers = list(headers)
    present = {name.lower(): value for name, value in headers}
    extra = list(SAFETY_HEADERS)
    html = present.get(b"content-type", b"").startswith(b"text/html")
    if page_headers is not None and html and b"content-security-policy" not in present:
        extra.extend(page_headers())  # a page with its own policy (the embed) sets no XFO
    headers.extend(pair for pair in extra if pair[0] not in present)
    return headers
