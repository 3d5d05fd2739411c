"""Request bodies: a size limit enforced while reading, and strict JSON, before any route runs.

Every request body is counted as it arrives, chunked or not: past the route's limit the
answer is 413 and the connection closes (`Connection: close`), so unread bytes are never
taken for a next request. A declared Content-Length over the limit is refused before a byte
is read. JSON bodies (up to MAX_JSON_BODY_BYTES) are read here and parsed strictly, so a
route never meets NaN, invalid UTF-8, lone surrogates or runaway nesting. Uploads (files,
tus, captions, pastes; see `uploads.py`) keep their own, larger limits and read their bodies
as streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meatlizard.api.deps import settings_of
from meatlizard.api.errors import ErrorOut
from meatlizard.core import strictjson
from meatlizard.core.settings import Settings

# The limit of a route with its own (upload) limit, or None: the JSON default.
OwnLimit = Callable[[str, str, Settings, bytes], int | None]
# Whether a route's body is a file, whatever its content type says.
IsUpload = Callable[[str, str], bool]
JSON_TYPES = (b"application/json",)
CLOSE = (b"connection", b"close")


class BodyTooLarge(HTTPException):
    """The body passed its limit while a route was reading it (413, then the socket closes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit), headers={"Connection": "close"})


def too_large_message(limit: int) -> str:
    """Say what the limit is."""
    return f"request body is larger than the limit of {limit} bytes"


def _is_json(content_type: bytes) -> bool:
    kind = content_type.split(b";", 1)[0].strip().lower()
    return kind in JSON_TYPES or kind.endswith(b"+json")


class BodyGuard:
    """Limit every request body while it is read; parse JSON bodies strictly.

    Which routes take uploads, and how large, is the domains' knowledge: the app hands it in.
    """

    def __init__(self, app: ASGIApp, *, own_limit: OwnLimit, is_upload: IsUpload) -> None:
        self.app = app
        self.own_limit, self.is_upload = own_limit, is_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared, content_type = None, b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"content-type":
                content_type = value
        settings = settings_of(scope["app"].state)
        method, path = scope["method"], scope["path"]
        limit = self.own_limit(method, path, settings, content_type) or settings.max_json_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse_too_large(send, limit)
            return
        if _is_json(content_type) and not self.is_upload(method, path):
            await self._json(scope, receive, send, limit)
            return
        await self._counted(scope, receive, send, limit)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read the whole JSON body (within the limit), check it, then hand it on."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            size += len(message.get("body", b""))
            if size > limit:
                await refuse_too_large(send, limit)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                strictjson.loads(body)
            except strictjson.InvalidJson as exc:
                await _refuse_json(send, str(exc))
                return
        await self.app(scope, _replay(body, receive), send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the body through, refusing it with 413 once it passes the limit."""
        size = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await refuse_too_large(send, limit)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a receive that gives the body already read, then waits for a disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, content: dict[str, Any], close: bool) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if close:
        headers.append(CLOSE)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def refuse_too_large(send: Send, limit: int) -> None:
    """Answer 413 and close the connection: what is left of the body is never read."""
    content = ErrorOut(detail=too_large_message(limit)).model_dump(exclude_none=True)
    await _answer(send, 413, content, close=True)


async def _refuse_json(send: Send, reason: str) -> None:
    problem = {"loc": ["body"], "msg": reason, "type": "json_invalid"}
    content = {"detail": f"the body is not valid JSON: {reason}", "errors": [problem]}
    await _answer(send, 422, content, close=False)
