"""Turn OpenAI-style requests into gateway calls, with the same guards as the chat."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import service as admin_service
from meatlizard.auth.models import User
from meatlizard.chat.guards import PromptGuard
from meatlizard.core.errors import InvalidInput, NotFound, Refused
from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats, Turn
from meatlizard.inference.service import Answerer, InferenceGateway
from meatlizard.openai_compat.schemas import ChatCompletionRequest


@dataclass
class Completion:
    """A prepared completion: who answers and the stream of text."""

    id: str
    created: int
    answerer: Answerer
    max_tokens: int
    stats: GenerationStats
    pieces: AsyncIterator[str]

    def finish_reason(self) -> str:
        return "length" if self.stats.token_count >= self.max_tokens else "stop"

    def usage(self) -> dict[str, int]:
        prompt = self.stats.prompt_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": self.stats.token_count,
            "total_tokens": prompt + self.stats.token_count,
        }


def list_models(inference: InferenceGateway) -> dict[str, Any]:
    """Return the model list in OpenAI's shape."""
    return {
        "object": "list",
        "data": [
            {"id": alias, "object": "model", "created": 0, "owned_by": "meatlizard"}
            for alias in inference.aliases
        ],
    }


async def prepare(
    db: AsyncSession,
    *,
    user: User,
    body: ChatCompletionRequest,
    inference: InferenceGateway,
    guard: PromptGuard,
    default_max_tokens: int,
    cancel: asyncio.Event,
) -> Completion:
    """Check the request like a chat prompt, then start the answer."""
    if body.model not in inference.aliases:
        raise NotFound(
            f"unknown model {body.model!r}; choose one of: {', '.join(inference.aliases)}"
        )
    if not await admin_service.requests_enabled(db):
        raise Refused("an admin has paused new AI requests; try again later")
    guard.check_text(body.messages[-1].content)
    await guard.check_rate(user.id)
    system = "\n\n".join(m.content for m in body.messages if m.role in ("system", "developer"))
    turns = [Turn(m.role, m.content) for m in body.messages if m.role in ("user", "assistant")]
    max_tokens = body.max_completion_tokens or body.max_tokens or default_max_tokens
    if max_tokens > default_max_tokens:
        raise InvalidInput(
            f"max_tokens is {max_tokens}; this server answers at most {default_max_tokens} tokens"
        )
    conversation = Conversation(
        system_prompt=system,
        turns=turns,
        temperature=body.temperature if body.temperature is not None else 0.7,
        max_tokens=max_tokens,
        session_id=f"openai-{user.id}",
    )
    stats = GenerationStats()
    pieces = inference.generate(
        conversation, alias=body.model, owner=str(user.id), cancel=cancel, stats=stats
    )
    return Completion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        answerer=inference.answerer(body.model),
        max_tokens=max_tokens,
        stats=stats,
        pieces=pieces,
    )
