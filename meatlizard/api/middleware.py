"""Pure ASGI middleware every HTTP request passes: request counter, access log, safety headers.

A plain ASGI wrapper instead of `@app.middleware("http")`: Starlette's BaseHTTPMiddleware
runs each request in an extra task group with memory streams, which cost more than most
of our routes themselves.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
                message["headers"] = with_safety_headers(message.get("headers", ()))
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


def with_safety_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    """Return the raw headers plus nosniff and Referrer-Policy unless already set."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    headers.extend(pair for pair in SAFETY_HEADERS if pair[0] not in present)
    return headers
