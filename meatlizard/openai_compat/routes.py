"""`/v1/chat/completions` and `/v1/models`, for existing OpenAI client libraries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse

from meatlizard.api.deps import CurrentUser, DbDep, SettingsDep
from meatlizard.api.errors import status_for
from meatlizard.chat.deps import ChatFlowDep
from meatlizard.core.errors import InvalidInput, ServiceError
from meatlizard.inference.context import PromptTooLong
from meatlizard.inference.deps import InferenceDep
from meatlizard.inference.engine import InferenceError
from meatlizard.openai_compat import service
from meatlizard.openai_compat.schemas import ChatCompletionRequest

router = APIRouter(prefix="/v1", tags=["openai"])


def openai_error(
    status: int, message: str, kind: str, code: str | None = None, param: str | None = None
) -> JSONResponse:
    """Answer in OpenAI's error shape, which its client libraries parse."""
    error = {"message": message, "type": kind, "param": param, "code": code}
    return JSONResponse({"error": error, "detail": message}, status_code=status)


def context_exceeded(exc: PromptTooLong) -> JSONResponse:
    """Answer a conversation that does not fit the model as OpenAI does (400)."""
    message = (
        f"This model's maximum context length is {exc.window} tokens. However, your messages "
        f"resulted in {exc.tokens} tokens. Please reduce the length of the messages."
    )
    return openai_error(
        400, message, "invalid_request_error", code="context_length_exceeded", param="messages"
    )


@router.get("/models")
async def models(user: CurrentUser, inference: InferenceDep) -> dict[str, Any]:
    """List the models, OpenAI style."""
    return service.list_models(inference)


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    inference: InferenceDep,
    chat: ChatFlowDep,
) -> Response:
    """Answer a conversation, streamed as server-sent events when `stream` is true."""
    cancel = asyncio.Event()
    try:
        completion = await service.prepare(
            db,
            user=user,
            body=body,
            inference=inference,
            guard=chat.guard,
            default_max_tokens=settings.model_max_tokens,
            cancel=cancel,
        )
    except InvalidInput as exc:  # OpenAI answers a bad parameter with 400
        return openai_error(400, str(exc), "invalid_request_error")
    except ServiceError as exc:
        return openai_error(status_for(exc), str(exc), "invalid_request_error")
    # The first piece comes after the prompt was fitted to the model: a conversation that
    # cannot fit is a 400 before any header is sent, streamed or not.
    try:
        first = await anext(completion.pieces, None)
    except PromptTooLong as exc:
        await completion.pieces.aclose()  # type: ignore[attr-defined]
        return context_exceeded(exc)
    except InferenceError as exc:
        await completion.pieces.aclose()  # type: ignore[attr-defined]
        message = str(exc) if exc.user_facing else "the model failed while answering"
        return openai_error(502, message, "server_error")
    if body.stream:
        return StreamingResponse(
            _events(completion, cancel, first),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    pieces: list[str] = [] if first is None else [first]
    try:
        async for piece in completion.pieces:
            pieces.append(piece)
    except InferenceError as exc:
        message = str(exc) if exc.user_facing else "the model failed while answering"
        return openai_error(502, message, "server_error")
    return JSONResponse(
        {
            "id": completion.id,
            "object": "chat.completion",
            "created": completion.created,
            "model": completion.answerer.alias,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(pieces)},
                    "finish_reason": completion.finish_reason(),
                }
            ],
            "usage": completion.usage(),
            "system_fingerprint": "fallback" if completion.answerer.is_fallback else None,
        }
    )


async def _events(
    completion: service.Completion, cancel: asyncio.Event, first: str | None
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
        data = {
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": completion.answerer.alias,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    try:
        if first is not None:
            yield chunk({"content": first})
        async for piece in completion.pieces:
            yield chunk({"content": piece})
    except InferenceError as exc:
        message = str(exc) if exc.user_facing else "the model failed while answering"
        error = {"error": {"message": message, "type": "server_error", "code": None}}
        yield f"data: {json.dumps(error)}\n\n".encode()
        return
    finally:
        cancel.set()  # the client went away or we are done: stop generating either way
        await completion.pieces.aclose()  # type: ignore[attr-defined]
    yield chunk({}, completion.finish_reason())
    yield b"data: [DONE]\n\n"
