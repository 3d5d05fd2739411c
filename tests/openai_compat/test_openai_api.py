"""The OpenAI-compatible endpoint, driven by the official `openai` client library."""

from __future__ import annotations

import httpx
import openai
import pytest

from meatlizard.inference.context import TEMPLATE_TOKENS_PER_TURN
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token


@pytest.fixture
def use_model() -> bool:
    return True


async def _client(client: httpx.AsyncClient, live_server: str) -> openai.AsyncOpenAI:
    session = await user_token(client)
    created = await client.post(
        "/api/v1/auth/tokens", json={"name": "openai sdk"}, headers=bearer(session)
    )
    return openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key=created.json()["token"])


async def test_models_and_a_plain_completion(client: httpx.AsyncClient, live_server: str) -> None:
    sdk = await _client(client, live_server)
    models = await sdk.models.list()
    assert [m.id for m in models.data] == ["smollm2"]
    reply = await sdk.chat.completions.create(
        model="smollm2",
        messages=[
            {"role": "system", "content": "You answer in one short sentence."},
            {"role": "user", "content": "What colour is the sky?"},
        ],
        temperature=0,
        max_tokens=40,
    )
    assert reply.object == "chat.completion"
    assert reply.model == "smollm2"
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason in {"stop", "length"}
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= 40
    assert reply.usage.prompt_tokens > 0


async def test_streaming_completion(client: httpx.AsyncClient, live_server: str) -> None:
    sdk = await _client(client, live_server)
    stream = await sdk.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Name three fruits."}],
        stream=True,
        max_tokens=30,
    )
    pieces = []
    finish = None
    async for chunk in stream:
        delta = chunk.choices[0].delta
        if delta.content:
            pieces.append(delta.content)
        finish = chunk.choices[0].finish_reason or finish
    assert len(pieces) >= 3
    assert finish in {"stop", "length"}


async def test_errors_come_back_as_openai_errors(
    client: httpx.AsyncClient, live_server: str
) -> None:
    sdk = await _client(client, live_server)
    with pytest.raises(openai.NotFoundError) as unknown:
        await sdk.chat.completions.create(
            model="gpt-99", messages=[{"role": "user", "content": "hi"}]
        )
    assert "unknown model 'gpt-99'" in str(unknown.value)
    with pytest.raises(openai.UnprocessableEntityError):
        await sdk.chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": "hi"}], stop=["\n"]
        )
    anonymous = openai.AsyncOpenAI(base_url=f"{live_server}/v1", api_key="mlt_wrong")
    with pytest.raises(openai.AuthenticationError):
        await anonymous.models.list()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_system_prompt_beyond_the_window_is_context_length_exceeded(
    client: httpx.AsyncClient, services: Services, stream: bool
) -> None:
    token = await user_token(client)
    system, prompt = "lizard " * 3000, "Hello there."
    engine = services.inference.engine_for("smollm2")  # type: ignore[attr-defined]
    expected = sum(
        engine.count_tokens(text) + TEMPLATE_TOKENS_PER_TURN for text in (system, prompt)
    )
    assert expected > engine.context_window
    refused = await client.post(
        "/v1/chat/completions",
        json={
            "model": "smollm2",
            "stream": stream,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
        },
        headers=bearer(token),
    )
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["type"]) == ("context_length_exceeded", "invalid_request_error")
    assert f"resulted in {expected} tokens" in error["message"]
    assert f"maximum context length is {engine.context_window} tokens" in error["message"]


async def test_max_tokens_beyond_the_servers_limit_is_a_400(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    limit = services.settings.model_max_tokens
    for field in ("max_tokens", "max_completion_tokens"):
        refused = await client.post(
            "/v1/chat/completions",
            json={
                "model": "smollm2",
                "messages": [{"role": "user", "content": "hi"}],
                field: limit + 1,
            },
            headers=bearer(token),
        )
        assert refused.status_code == 400, refused.text
        assert f"at most {limit} tokens" in refused.json()["error"]["message"]
