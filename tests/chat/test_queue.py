"""Chats beyond the model's parallel slots wait in line and are told their place."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import websockets

from meatlizard.inference.service import LocalInference
from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token


@pytest.fixture
def use_model() -> bool:
    return True


async def until_queued(ws: websockets.ClientConnection) -> list[dict[str, Any]]:
    """Read frames up to the first "queued" one."""
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "queued":
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=120)))
        assert frames[-1]["type"] in ("start", "queued"), frames
    return frames


async def test_a_chat_waiting_for_a_slot_is_told_how_many_are_ahead(
    client: httpx.AsyncClient, live_server: str, model_inference: LocalInference
) -> None:
    token = await user_token(client)
    first = await create_session(client, token, temperature=0.0)
    second = await create_session(client, token, temperature=0.0)
    scheduler = model_inference.scheduler_for("smollm2")
    async with AsyncExitStack() as busy:
        for n in range(scheduler.capacity):  # other chats hold every slot
            await busy.enter_async_context(scheduler.slot(f"someone-{n}"))
        ws_a = await websockets.connect(
            socket_url(live_server, first["id"]), additional_headers=bearer(token)
        )
        ws_b = await websockets.connect(
            socket_url(live_server, second["id"]), additional_headers=bearer(token)
        )
        await ws_a.send(json.dumps({"prompt": "Say hello."}))
        assert (await until_queued(ws_a))[-1] == {"type": "queued", "position": 0}
        await ws_b.send(json.dumps({"prompt": "Say goodbye."}))
        assert (await until_queued(ws_b))[-1] == {"type": "queued", "position": 1}
    # The slots are free again: both answers stream, the first one in line first.
    answers = await asyncio.gather(collect_answer(ws_a), collect_answer(ws_b))
    await ws_a.close()
    await ws_b.close()
    for frames in answers:
        assert frames[-1]["type"] == "done", frames[-1]
        assert any(f["type"] == "token" for f in frames)
