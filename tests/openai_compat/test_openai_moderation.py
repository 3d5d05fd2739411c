"""`/v1/chat/completions` obeys the same prompt guard as the chat: admins' lists, every message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceEngine
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token

REFUSAL = "That prompt was refused by this server's content rules."


class Recording(InferenceEngine):
    """Answers "fine" and remembers every conversation it was asked to answer."""

    alias = "recording"
    is_fallback = True

    def __init__(self) -> None:
        self.asked: list[GenerationRequest] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        self.asked.append(request)
        yield "fine"


@pytest.fixture
async def admin_and_member(client: httpx.AsyncClient) -> tuple[str, str]:
    admin = await user_token(client)  # the first account is the admin
    member = await user_token(client)
    lists = {"words": ["forbiddenword"], "patterns": [r"secret\s*plan\d+"]}
    saved = await client.put("/api/v1/admin/moderation", json=lists, headers=bearer(admin))
    assert saved.status_code == 200, saved.text
    return admin, member


def _messages(where: str, text: str) -> list[dict[str, str]]:
    """A conversation whose `where` message ("system", "earlier" or "last") says `text`."""
    return [
        {"role": "system", "content": text if where == "system" else "Be brief."},
        {"role": "user", "content": text if where == "earlier" else "Hello."},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": text if where == "last" else "How are you?"},
    ]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("where", "index"), [("system", 0), ("earlier", 1), ("last", 3)], ids=str)
@pytest.mark.parametrize(
    "text", ["say the FORBIDDENWORD please", "what is Secret plan42"], ids=["word", "pattern"]
)
async def test_a_message_breaking_the_admins_lists_is_refused_before_anything_runs(
    client: httpx.AsyncClient,
    services: Services,
    admin_and_member: tuple[str, str],
    where: str,
    index: int,
    text: str,
    stream: bool,
) -> None:
    _, member = admin_and_member
    engine = Recording()
    services.inference.fallback = engine  # type: ignore[attr-defined]
    model = services.inference.aliases[0]
    refused = await client.post(
        "/v1/chat/completions",
        json={"model": model, "stream": stream, "messages": _messages(where, text)},
        headers=bearer(member),
    )
    assert refused.status_code == 403, refused.text
    body: dict[str, Any] = refused.json()
    assert body["detail"] == f"messages[{index}]: {REFUSAL}"
    assert body["error"]["message"] == body["detail"]
    assert body["error"]["type"] == "invalid_request_error"
    assert engine.asked == []  # nothing was generated

    allowed = await client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": _messages(where, "a forbiddenwords secret plan")},
        headers=bearer(member),
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["choices"][0]["message"]["content"] == "fine"
    assert len(engine.asked) == 1


async def test_earlier_prompts_are_held_to_the_length_limit_but_a_system_prompt_is_not(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    model = services.inference.aliases[0]
    limit = services.settings.max_prompt_chars
    long_user = [
        {"role": "user", "content": "x" * (limit + 1)},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "Hello."},
    ]
    refused = await client.post(
        "/v1/chat/completions", json={"model": model, "messages": long_user}, headers=bearer(token)
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["detail"] == (
        f"messages[0]: the message is {limit + 1} characters long; the limit is {limit}"
    )
    long_system = [
        {"role": "system", "content": "lizard " * (limit // 7 + 1)},
        {"role": "user", "content": "Hello."},
    ]
    answered = await client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": long_system},
        headers=bearer(token),
    )
    assert answered.status_code == 200, answered.text
