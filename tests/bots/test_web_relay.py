"""A web chat routed through the server-bot and the client-bot over Discord, end to end.

Real `meatlizard serve` (INFERENCE=remote) on PostgreSQL and Redis; both bots as discord.py
clients against the emulator; the client-bot answers with the real SmolLM2.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest
import websockets

from meatlizard.auth.models import User as UserRow
from meatlizard.bots.frames import MARKER
from meatlizard.bots.run import build_server_bot
from meatlizard.bots.server.bot import ServerBot
from meatlizard.dev.discord_emulator.message import Message
from meatlizard.relay.wire import (
    CancelPayload,
    ChunkPayload,
    RequestPayload,
    ResponsePayload,
)
from tests.bots.helpers import opened
from tests.bots.relay_helpers import RelayWorld, close_services, session_channel
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, running
from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token

pytestmark = pytest.mark.model


async def ask(world: RelayWorld, prompt: str, **kw: Any) -> tuple[str, list[dict[str, Any]]]:
    """Ask in a fresh web session over the WebSocket; return the session id and the frames."""
    async with httpx.AsyncClient(base_url=world.web) as http:
        token = await user_token(http)
        session = await create_session(http, token, temperature=0.0)
    async with websockets.connect(
        socket_url(world.web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": prompt}))
        return session["id"], await collect_answer(ws, **kw)


async def test_web_chat_travels_over_discord_as_ciphertext(relay_world: RelayWorld) -> None:
    world = relay_world
    session_id, frames = await ask(world, "Name three colours.")
    assert frames[0]["type"] == "start" and frames[0]["fallback"] is False
    assert frames[-1]["type"] == "done", frames[-1]
    answer = "".join(f["text"] for f in frames if f["type"] == "token")
    assert answer.strip()

    channel = session_channel(world, session_id)
    state = world.emulator.core.state
    # The web user has no Discord account: bots and admins only.
    assert state.can_view(world.admin.id, channel)
    assert state.can_view(world.client_app.id, channel)
    assert not state.can_view(world.alice.id, channel)

    def complete() -> list[tuple[Message, Any]] | None:
        payloads = opened(world.server.settings, world.emulator.history(channel))
        return payloads if any(isinstance(p, ResponsePayload) for _, p in payloads) else None

    payloads = await world.emulator.wait_until(complete)
    messages = world.emulator.history(channel)
    assert {m.author.id for m in messages} == {world.server_app.id, world.client_app.id}
    assert all(m.content.startswith(MARKER) for m in messages)
    assert all(answer.strip() not in m.content for m in messages)
    requests = [p for m, p in payloads if m.author.id == world.server_app.id]
    assert [type(p) for p in requests] == [RequestPayload]
    assert requests[0].session_id == session_id and requests[0].prompt == "Name three colours."
    chunks = [p for m, p in payloads if isinstance(p, ChunkPayload)]
    assert [c.sequence for c in chunks] == list(range(len(chunks)))
    # What the browser showed is exactly what the client-bot sealed in the channel.
    assert "".join(c.text for c in chunks) == answer
    assert all(m.author.id == world.client_app.id for m, p in payloads if p in chunks)

    # A second prompt of the same session reuses its channel.
    async with httpx.AsyncClient(base_url=world.web) as http:
        status = (await http.get("/api/v1/chat/models")).json()
    assert list(status["workers"]) == [f"discord-relay-{world.client_app.id}"]
    assert len(world.web_channels()) == 1


async def test_stop_button_cancels_on_the_client_bot(relay_world: RelayWorld) -> None:
    world = relay_world
    session_id, frames = await ask(
        world, "Write a long essay about the history of Rome.", stop_after_tokens=2
    )
    assert frames[-1]["type"] == "done"
    assert frames[-1]["status"] == "stopped"
    channel = session_channel(world, session_id)

    def closed() -> ResponsePayload | None:
        payloads = opened(world.server.settings, world.emulator.history(channel))
        return next((p for _, p in payloads if isinstance(p, ResponsePayload)), None)

    response = await world.emulator.wait_until(closed)
    payloads = opened(world.server.settings, world.emulator.history(channel))
    cancels = [p for m, p in payloads if isinstance(p, CancelPayload)]
    assert cancels and all(m.author.id == world.server_app.id for m, p in payloads if p in cancels)
    assert cancels[0].request_id == response.request_id
    # The client-bot stopped generating: its answer is closed as stopped, well short of the cap.
    assert response.metrics["stopped"] is True
    assert response.metrics["tokens"] < 200


async def test_client_bot_offline_gives_a_labelled_fallback(relay_world: RelayWorld) -> None:
    world = relay_world
    await world.client.close()  # posts is_online=false on the way out
    await world.cluster.wait_for_workers(world.web, 0)  # the server-bot withdrew itself
    _, frames = await ask(world, "Hello?")
    assert frames[0]["type"] == "start" and frames[0]["fallback"] is True
    assert frames[-1]["type"] == "done"
    assert world.web_channels() == []  # nothing went to Discord


async def test_request_in_flight_survives_a_server_bot_gateway_drop(
    relay_world: RelayWorld,
) -> None:
    world = relay_world
    resumes = world.emulator.core.gateway.resumes
    async with httpx.AsyncClient(base_url=world.web) as http:
        token = await user_token(http)
        session = await create_session(http, token, temperature=0.0)
    async with websockets.connect(
        socket_url(world.web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Tell me about lizards in five sentences."}))
        frames = []
        dropped_at = None
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            frames.append(frame)
            if frame["type"] == "token" and dropped_at is None:
                assert await world.emulator.drop_gateway(world.server_app) == 1
                dropped_at = len(frames)
            if frame["type"] in ("done", "error"):
                break
    assert frames[-1]["type"] == "done", frames[-1]
    assert frames[-1]["status"] != "stopped"
    assert dropped_at is not None and len(frames) > dropped_at + 1  # tokens came after the drop
    assert world.emulator.core.gateway.resumes > resumes


async def test_linked_web_user_gets_their_own_channel(relay_world: RelayWorld) -> None:
    world = relay_world
    async with httpx.AsyncClient(base_url=world.web) as http:
        token = await user_token(http)
        me = (await http.get("/api/v1/auth/me", headers=bearer(token))).json()
        session = await create_session(http, token, temperature=0.0)
    async with world.server.services.sessions() as db:
        user = await db.get(UserRow, me["id"])
        assert user is not None
        user.discord_id = str(world.alice.id)
        await db.commit()
    async with websockets.connect(
        socket_url(world.web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Say hello."}))
        frames = await collect_answer(ws)
    assert frames[0]["fallback"] is False and frames[-1]["type"] == "done"
    channel = session_channel(world, session["id"])
    state = world.emulator.core.state
    assert state.can_view(world.alice.id, channel)  # the web user's own channel
    assert state.can_view(world.admin.id, channel)
    # The sealed traffic went to #ai-relay, out of the user's sight.
    assert not [m for m in world.emulator.history(channel) if m.content.startswith(MARKER)]
    assert world.server.relay_channel_id is not None
    room = world.emulator.core.state.channels[world.server.relay_channel_id]
    assert not state.can_view(world.alice.id, room)

    def closed() -> ResponsePayload | None:
        payloads = opened(world.server.settings, world.emulator.history(room))
        return next((p for _, p in payloads if isinstance(p, ResponsePayload)), None)

    response = await world.emulator.wait_until(closed)
    assert response.session_id == session["id"]
    assert response.response == "".join(f["text"] for f in frames if f["type"] == "token")


async def test_server_bot_restarted_mid_answer_still_answers_in_full(
    relay_world: RelayWorld,
) -> None:
    world = relay_world
    async with httpx.AsyncClient(base_url=world.web) as http:
        token = await user_token(http)
        session = await create_session(http, token, temperature=0.0)
    async with (
        contextlib.AsyncExitStack() as stack,
        websockets.connect(
            socket_url(world.web, session["id"]), additional_headers=bearer(token)
        ) as ws,
    ):
        await ws.send(json.dumps({"prompt": "Write a long essay about the history of Rome."}))
        frames: list[dict[str, Any]] = []
        successor: ServerBot | None = None
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            frames.append(frame)
            if frame["type"] == "token" and successor is None:
                # Mid-answer: the server-bot stops and another one starts in its place.
                await world.server.close()
                successor = build_server_bot(
                    world.server.settings, guild_ready_timeout=GUILD_READY_TIMEOUT_S
                )
                stack.push_async_callback(close_services, successor)
                await successor.services.prepare()
                await stack.enter_async_context(running(successor, world.server_app.token))
            if frame["type"] in ("done", "error"):
                break
    assert frames[-1]["type"] == "done", frames[-1]
    assert frames[-1]["status"] != "stopped"
    answer = "".join(f["text"] for f in frames if f["type"] == "token")

    channel = session_channel(world, session["id"])
    payloads = opened(world.server.settings, world.emulator.history(channel))
    requests = [p for _, p in payloads if isinstance(p, RequestPayload)]
    assert [r.attempt for r in requests] == [1, 2]  # posted again by the successor
    assert world.client.resumed == 1  # which the client-bot answered from memory
    closes = {p.response for _, p in payloads if isinstance(p, ResponsePayload)}
    # The web user saw the one answer the model generated: whole, once, nothing spliced.
    assert closes == {answer}
    async with httpx.AsyncClient(base_url=world.web) as http:
        detail = (
            await http.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
        ).json()
    assert [m["content"] for m in detail["messages"] if m["role"] == "assistant"] == [answer]
