"""The chat WebSocket: prompts in, streamed tokens out, stop at any time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.api.deps import SESSION_COOKIE, session_maker_of
from meatlizard.auth import service as auth_service
from meatlizard.auth.models import User
from meatlizard.chat import service as chat_service
from meatlizard.chat.access import TokenWatch
from meatlizard.chat.deps import chat_flow_of, token_watch_of
from meatlizard.chat.flows import ChatEvent, ChatFlow, Failed, Finished, Started, Token
from meatlizard.chat.token_frames import TokenFrames
from meatlizard.core import strictjson
from meatlizard.core.errors import (
    InvalidInput,
    NotFound,
    Refused,
    ServiceError,
    TooManyRequests,
    Unavailable,
)
from meatlizard.core.metrics import REFUSALS
from meatlizard.core.outages import DATABASE_DOWN, is_db_outage

log = logging.getLogger(__name__)
router = APIRouter(prefix="/chat")

MAX_FRAME_BYTES = 1_000_000
INVALID_FRAME = {"type": "error", "code": "invalid", "message": "send a JSON object, as text"}
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "Try Again Later"


def event_frame(event: ChatEvent) -> dict[str, Any]:
    """Translate a chat event into the socket's JSON frame."""
    match event:
        case Token(text):
            return {"type": "token", "text": text}
        case Started():
            return {
                "type": "start",
                "model": event.model_alias,
                "fallback": event.is_fallback,
                "prompt_id": event.prompt_message_id,
            }
        case Finished():
            return {
                "type": "done",
                "message_id": event.message_id,
                "status": event.status.value,
                "tokens": event.token_count,
                "tokens_per_second": round(event.tokens_per_second, 2),
                "time_to_first_token": event.time_to_first_token,
                "fallback": event.is_fallback,
                "model": event.model_alias,
            }
        case Failed(message):
            return {"type": "error", "code": "inference_failed", "message": message}
    raise TypeError(event)


def error_frame(exc: ServiceError) -> dict[str, Any]:
    """Translate a refused request into an error frame with a machine-readable code."""
    codes: list[tuple[type[ServiceError], str]] = [
        (TooManyRequests, "rate_limited"),
        (Refused, "refused"),
        (InvalidInput, "invalid"),
        (NotFound, "not_found"),
        (Unavailable, "unavailable"),
    ]
    code = next((c for cls, c in codes if isinstance(exc, cls)), "error")
    frame: dict[str, Any] = {"type": "error", "code": code, "message": str(exc)}
    if isinstance(exc, TooManyRequests):
        frame["retry_after"] = round(exc.retry_after_seconds, 1)
    return frame


def socket_token(ws: WebSocket) -> str | None:
    """Return a socket's token: bearer header, `?token=`, or the session cookie (same origin)."""
    header = ws.headers.get("authorization", "")
    raw = header[7:] if header.lower().startswith("bearer ") else ws.query_params.get("token")
    if not raw:
        raw = ws.cookies.get(SESSION_COOKIE)
        origin = ws.headers.get("origin")
        # A cookie rides along on cross-site sockets too; only our own pages may use it.
        if raw and origin and urlparse(origin).netloc != ws.headers.get("host"):
            return None
    return raw or None


async def socket_user(ws: WebSocket, sessions: async_sessionmaker[AsyncSession]) -> User | None:
    """Authenticate a socket by its token."""
    raw = socket_token(ws)
    if not raw:
        return None
    async with sessions() as db:
        return await auth_service.user_for_token(db, raw=raw)


class ChatSocket:
    """Serves one connected client: at most one answer streams at a time."""

    def __init__(
        self,
        ws: WebSocket,
        watch: TokenWatch,
        chat: ChatFlow,
        user: User,
        session_id: str,
    ) -> None:
        self.ws = ws
        self.watch = watch
        self.chat = chat
        self.user = user
        self.session_id = session_id
        self.cancel = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.send_lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> bool:
        """Send a frame; return False when the client has gone away."""
        async with self.send_lock:
            try:
                await self.ws.send_text(json.dumps(frame, ensure_ascii=False))
            except (WebSocketDisconnect, RuntimeError, OSError):
                return False
        return True

    async def close_when_revoked(self, raw: str) -> None:
        """Stop the answer and close the socket once its token or account is no longer good."""
        await self.watch.until_revoked(raw)
        self.cancel.set()
        async with self.send_lock:
            with contextlib.suppress(RuntimeError, OSError):  # already closing
                await self.ws.close(code=CLOSE_UNAUTHORIZED, reason="signed out; log in again")

    async def run(self, raw: str | None = None) -> None:
        """Read client frames until the socket closes, then stop any running answer."""
        watch = asyncio.create_task(self.close_when_revoked(raw)) if raw else None
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is not None:
                    await self.handle(message["text"])
                else:  # a binary frame: refuse it, keep the socket
                    await self.send(INVALID_FRAME)
        except WebSocketDisconnect:
            pass
        finally:
            if watch is not None:
                watch.cancel()
            self.cancel.set()
            if self.task is not None:
                await asyncio.gather(self.task, return_exceptions=True)

    async def handle(self, text: str) -> None:
        if len(text) > MAX_FRAME_BYTES:
            await self.send({"type": "error", "code": "invalid", "message": "frame too large"})
            return
        try:
            frame = strictjson.loads(text)
        except strictjson.InvalidJson:
            frame = None
        if not isinstance(frame, dict):
            await self.send(INVALID_FRAME)
            return
        kind = frame.get("type", "prompt")
        if kind == "stop":
            self.cancel.set()
            return
        if kind not in ("prompt", "regenerate", "edit"):
            await self.send(
                {"type": "error", "code": "invalid", "message": f"unknown frame type {kind!r}"}
            )
            return
        prompt = frame.get("prompt") if kind != "regenerate" else None
        if kind != "regenerate" and not isinstance(prompt, str):
            await self.send(
                {"type": "error", "code": "invalid", "message": "'prompt' must be a string"}
            )
            return
        replaces = frame.get("message_id") if kind == "edit" else None
        if kind == "edit" and (not isinstance(replaces, int) or isinstance(replaces, bool)):
            await self.send(
                {"type": "error", "code": "invalid", "message": "'message_id' must be a number"}
            )
            return
        if self.task is not None and not self.task.done():
            await self.send(
                {
                    "type": "error",
                    "code": "busy",
                    "message": "an answer is still streaming; stop it first",
                }
            )
            return
        self.cancel = asyncio.Event()
        self.task = asyncio.create_task(self.stream(prompt, self.cancel, replaces))

    async def _send_held(self, frames: TokenFrames) -> None:
        """Send the tokens held for the next frame, before whatever ends or interrupts them."""
        held = frames.flush()
        if held is not None:
            await self.send({"type": "token", "text": held})

    async def queued(self, ahead: int) -> None:
        """Tell the client how many chats are ahead of its answer while the model is busy."""
        await self.send({"type": "queued", "position": ahead})

    async def stream(
        self, prompt: str | None, cancel: asyncio.Event, replaces: int | None = None
    ) -> None:
        """Stream one answer to the client."""
        events = self.chat.answer(
            user=self.user,
            session_id=self.session_id,
            prompt=prompt,
            cancel=cancel,
            on_queued=self.queued,
            replaces=replaces,
        )
        frames = TokenFrames()
        try:
            async for event in events:
                if isinstance(event, Token):
                    text = frames.add(event.text)
                    if text is None:
                        continue
                    frame = {"type": "token", "text": text}
                else:
                    await self._send_held(frames)
                    frame = event_frame(event)
                if not await self.send(frame):
                    cancel.set()  # the client left; the partial answer is still stored
                    break
        except ServiceError as exc:
            REFUSALS.labels(reason=type(exc).__name__).inc()
            await self._send_held(frames)
            await self.send(error_frame(exc))
        except Exception:
            log.exception("chat stream failed in session %s", self.session_id)
            await self._send_held(frames)
            await self.send({"type": "error", "code": "internal", "message": "internal error"})
        finally:
            await events.aclose()  # type: ignore[attr-defined]


@router.websocket("/sessions/{session_id}/ws")
async def chat_socket(ws: WebSocket, session_id: str) -> None:
    """Stream answers: send {"prompt": ...}, {"type": "regenerate"}, {"type": "stop"} or
    {"type": "edit", "message_id": ..., "prompt": ...} (a new branch from an earlier prompt)."""
    sessions = session_maker_of(ws.app.state)
    # Accept first so the client sees a close code and reason, not a bare HTTP 403 or 500.
    await ws.accept()
    try:
        user = await socket_user(ws, sessions)
        if user is None:
            await ws.close(code=CLOSE_UNAUTHORIZED, reason="log in first")
            return
        async with sessions() as db:
            try:
                await chat_service.get_session(db, user=user, session_id=session_id)
            except NotFound:
                await ws.close(code=CLOSE_NOT_FOUND, reason="no such chat session")
                return
    except Exception as exc:
        if not is_db_outage(exc):
            raise
        await ws.close(code=CLOSE_TRY_AGAIN, reason=DATABASE_DOWN)
        return
    state = ws.app.state
    chat = ChatSocket(ws, token_watch_of(state), chat_flow_of(state), user, session_id)
    await chat.run(socket_token(ws))
