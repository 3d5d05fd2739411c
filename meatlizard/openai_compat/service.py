"""Turn OpenAI-style requests into gateway calls, with the same guards as the chat."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.chat.guards import PromptGuard, PromptPart
from meatlizard.core.errors import InvalidInput, NotFound
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


def _parts(body: ChatCompletionRequest) -> list[PromptPart]:
    """Every user and system message before the last one (the prompt), named by position."""
    parts = []
    for index, message in enumerate(body.messages[:-1]):
        if message.role in ("user", "system", "developer"):
            role: Literal["user", "system"] = "user" if message.role == "user" else "system"
            parts.append(PromptPart(role, message.content, f"messages[{index}]"))
    return parts


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
    last = len(body.messages) - 1
    await guard.admit(
        db,
        user_id=user.id,
        prompt=body.messages[last].content,
        where=f"messages[{last}]",
        context=_parts(body),
    )
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
