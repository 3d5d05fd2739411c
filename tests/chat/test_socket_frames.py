"""Hostile chat socket frames get an error frame, and the socket keeps answering."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token

BAD_FRAMES: dict[str, str | bytes] = {
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "deep object": '{"prompt": ' + "[" * 5000 + "]" * 5000 + "}",
    "binary": b'{"prompt": "hello"}',
    "invalid utf-8 bytes": b"\xff\xfe",
    "nan": '{"prompt": NaN}',
    "lone surrogate": '{"prompt": "\\ud800"}',
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_bad_frame_is_answered_and_the_socket_stays_usable(
    client: httpx.AsyncClient, live_server: str, name: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        for _ in range(2):  # twice: the first refusal did not spoil the socket
            await ws.send(BAD_FRAMES[name])
            error = json.loads(await ws.recv())
            assert (error["type"], error["code"]) == ("error", "invalid"), error
        await ws.send(json.dumps({"prompt": "Still there?"}))
        frames = await collect_answer(ws)
    assert frames[-1]["type"] == "done", frames[-1]
