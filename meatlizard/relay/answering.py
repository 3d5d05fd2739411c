"""Answer one decrypted request with a local engine, whichever transport carries the replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from pydantic import BaseModel

from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats, InferenceEngine, InferenceError, Turn
from meatlizard.inference.scheduler import FairScheduler
from meatlizard.inference.service import stream_with_engine
from meatlizard.relay.wire import (
    ChunkPayload,
    ErrorPayload,
    RequestPayload,
    ResponsePayload,
    TurnPayload,
)

log = logging.getLogger(__name__)

DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 512
# Pieces that come sooner after the last reply wait and go with the next: at most 10 replies a
# second per answer. Each reply is an encryption, a stream write and a wake-up of this worker,
# Redis (or Discord) and the web process; on a small machine those wake-ups take cores from
# the decoding. Measured with eight chats at once on the 2-core box, web and client-bot
# beside each other (bench/RESULTS.md): 25 ms kept x0.88 of the embedded server's tokens/s,
# 40 ms x0.90, 100 ms x0.91-0.92. The first piece goes at once; a piece waits at most this long.
REPLY_INTERVAL_SECONDS = 0.1

Send = Callable[[BaseModel], Awaitable[None]]


def request_of(conversation: Conversation, *, alias: str, request_id: str) -> RequestPayload:
    """Return the request that asks a worker to answer a conversation."""
    return RequestPayload(
        session_id=conversation.session_id or "web",
        request_id=request_id,
        prompt=conversation.turns[-1].content,
        system_prompt=conversation.system_prompt or None,
        temperature=conversation.temperature,
        model_alias=alias,
        max_tokens=conversation.max_tokens,
        messages=[TurnPayload.model_validate(vars(t)) for t in conversation.turns],
    )


def conversation_of(request: RequestPayload) -> Conversation:
    """Return the conversation a request carries (its prompt alone when it has no history)."""
    turns = [Turn(m.role, m.content) for m in request.messages or []] or [
        Turn("user", request.prompt)
    ]
    return Conversation(
        system_prompt=request.system_prompt or "",
        turns=turns,
        temperature=request.temperature if request.temperature is not None else DEFAULT_TEMPERATURE,
        max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
        session_id=request.session_id,
    )


async def answer_request(
    request: RequestPayload,
    *,
    engines: dict[str, InferenceEngine],
    default_alias: str,
    scheduler: FairScheduler,
    cancel: asyncio.Event,
    send: Send,
) -> GenerationStats | None:
    """Stream numbered chunks, then a response (or an error); return the stats when answered."""
    sid, rid, attempt = request.session_id, request.request_id, request.attempt
    alias = request.model_alias or default_alias
    engine = engines.get(alias)
    if engine is None:
        await send(
            ErrorPayload(
                session_id=sid,
                request_id=rid,
                error_message=f"this worker does not serve model {alias!r}",
            )
        )
        return None
    stats = GenerationStats()
    pieces: list[str] = []
    stream = stream_with_engine(
        engine,
        scheduler,
        conversation_of(request),
        owner=request.session_id,
        cancel=cancel,
        stats=stats,
    )
    try:
        # Closed even when a send fails, so that the model stops at once.
        replies = paced(stream, REPLY_INTERVAL_SECONDS)
        async with contextlib.aclosing(_numbered(replies)) as numbered:
            async for sequence, piece in numbered:
                pieces.append(piece)
                chunk = ChunkPayload(
                    session_id=sid, request_id=rid, sequence=sequence, text=piece, attempt=attempt
                )
                await send(chunk)
    except InferenceError as exc:
        log.warning("request %s failed: %s", request.request_id, exc)
        message = str(exc) if exc.user_facing else "the model failed while answering"
        await send(ErrorPayload(session_id=sid, request_id=rid, error_message=message))
        return None
    metrics = {
        "tokens_per_second": round(stats.tokens_per_second, 2),
        "tokens": stats.token_count,
        "stopped": stats.stopped,
    }
    text = "".join(pieces)
    await send(
        ResponsePayload(
            session_id=sid, request_id=rid, response=text, metrics=metrics, attempt=attempt
        )
    )
    return stats


class _End:
    """Marks the end of the pieces (with the error that ended them, if any)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


async def paced(stream: AsyncIterator[str], interval: float) -> AsyncGenerator[str, None]:
    """Yield the stream's pieces, those that came within `interval` of the last joined."""
    queue: asyncio.Queue[str | _End] = asyncio.Queue()

    async def pump() -> None:
        try:
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for piece in stream:
                    queue.put_nowait(piece)
        except Exception as exc:  # InferenceError and the like: raised to the reader
            queue.put_nowait(_End(exc))
        else:
            queue.put_nowait(_End())

    reading = asyncio.ensure_future(pump())
    loop = asyncio.get_running_loop()
    try:
        while True:
            item = await queue.get()
            sent_at = loop.time()
            parts: list[str] = []
            while not isinstance(item, _End):
                parts.append(item)
                if queue.empty():
                    break
                item = queue.get_nowait()
            if parts:
                yield "".join(parts)
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            await asyncio.sleep(sent_at + interval - loop.time())  # now or soon
    finally:
        reading.cancel()  # a closed reader stops the model at once
        with contextlib.suppress(asyncio.CancelledError):
            await reading


async def _numbered(stream: AsyncIterator[str]) -> AsyncGenerator[tuple[int, str], None]:
    sequence = 0
    try:
        async for piece in stream:
            yield sequence, piece
            sequence += 1
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
