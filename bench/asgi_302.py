"""The ceiling for our stack: a bare ASGI app under uvicorn answering every request with 302."""

from __future__ import annotations

from typing import Any

HEADERS = [(b"location", b"https://example.com/benchmark/target"), (b"content-length", b"0")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Redirect everything; ignore lifespan."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 302, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b""})
