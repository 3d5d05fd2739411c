"""The chat WebSocket with the real SmolLM2 model: streaming, stop, regenerate, history."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token


@pytest.fixture
def use_model() -> bool:
    return True


async def test_streams_a_real_answer_as_it_is_written(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token, temperature=0.2)
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Name three colours."}))
        frames = await collect_answer(ws)
    assert frames[0]["type"] == "start"
    assert frames[0]["fallback"] is False
    assert frames[0]["model"] == "smollm2"
    tokens = [f["text"] for f in frames if f["type"] == "token"]
    assert len(tokens) >= 2  # streamed, not sent whole at the end
    done = frames[-1]
    assert done["type"] == "done"
    assert done["status"] == "complete"
    # Tokens quicker than TOKEN_FRAME_SECONDS share a frame; every one is in some frame.
    assert done["tokens"] >= len(tokens)
    assert done["tokens_per_second"] > 0

    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][0]["content"] == "Name three colours."
    assert detail["messages"][1]["content"] == "".join(tokens)
    assert detail["title"] == "Name three colours."


async def test_stop_ends_generation_midway_and_keeps_partial_text(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Write a very long essay about the history of Rome."}))
        frames = await collect_answer(ws, stop_after_tokens=5)
    done = frames[-1]
    assert done["type"] == "done"
    assert done["status"] == "stopped"
    # A few tokens may already be in flight when stop arrives, but far fewer than max_tokens.
    assert 5 <= done["tokens"] < 100
    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert detail["messages"][-1]["status"] == "stopped"


async def test_regenerate_replaces_the_last_answer(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token, temperature=1.0)
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Say hello."}))
        first = await collect_answer(ws)
        await ws.send(json.dumps({"type": "regenerate"}))
        second = await collect_answer(ws)
    assert first[-1]["type"] == "done"
    assert second[-1]["type"] == "done"
    assert second[-1]["message_id"] != first[-1]["message_id"]
    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["id"] == second[-1]["message_id"]


async def test_multi_turn_history_is_trimmed_to_the_context_window(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    # About 1200 tokens: two of them cannot fit in the 2048-token window together.
    long_prompt = "Summarise this text: " + "The lizard sat on a warm rock. " * 130
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        for _ in range(3):
            await ws.send(json.dumps({"prompt": long_prompt}))
            frames = await collect_answer(ws, stop_after_tokens=3)
            assert frames[-1]["type"] == "done", frames[-1]


async def test_socket_refuses_strangers_and_bad_frames(
    client: httpx.AsyncClient, live_server: str
) -> None:
    owner = await user_token(client)
    stranger = await user_token(client)
    session = await create_session(client, owner)
    url = socket_url(live_server, session["id"])
    for headers, code in [({}, 4401), (bearer(stranger), 4404)]:
        async with websockets.connect(url, additional_headers=headers) as ws:
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == code
    async with websockets.connect(url, additional_headers=bearer(owner)) as ws:
        await ws.send("not json")
        assert json.loads(await ws.recv())["code"] == "invalid"
        await ws.send(json.dumps({"type": "dance"}))
        assert "unknown frame type" in json.loads(await ws.recv())["message"]
        await ws.send(json.dumps({"prompt": 42}))
        assert json.loads(await ws.recv())["message"] == "'prompt' must be a string"
