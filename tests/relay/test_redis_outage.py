"""Redis stopped mid-answer and started again empty: everything rides it out, nothing is lost."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from typing import Any

import httpx
import pytest
import websockets

from tests.fixtures.cluster import Cluster
from tests.fixtures.services import OwnRedis
from tests.helpers import bearer, collect_answer, create_session, login, register, socket_url
from tests.links.helpers import HUMAN, create_link

pytestmark = pytest.mark.model
log = logging.getLogger(__name__)

FRAME_TIMEOUT_SECONDS = 60


async def _ask(base: str, token: str, session_id: str, prompt: str) -> list[dict[str, Any]]:
    async with websockets.connect(
        socket_url(base, session_id), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": prompt}))
        return await collect_answer(ws)


async def _messages(base: str, token: str, session_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.get(f"/api/v1/chat/sessions/{session_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def test_redis_restart_is_ridden_out(cluster: Cluster, own_redis: OwnRedis) -> None:
    cluster.env["REDIS_URL"] = own_redis.url
    web = await cluster.web()
    answering, idle = cluster.worker("gpu-answering"), cluster.worker("gpu-idle")
    await cluster.wait_for_workers(web, 2)
    async with httpx.AsyncClient(base_url=web) as http:
        name = await register(http)
        token = await login(http, name)
        cut = await create_session(http, token)
        during = await create_session(http, token)
        after = await create_session(http, token)
        link = await create_link(http, token)
        paste = await http.post("/api/v1/pastes", json={"content": "kept"}, headers=bearer(token))
        assert paste.status_code == 201, paste.text

    # Redis dies while an answer streams.
    async with websockets.connect(
        socket_url(web, cut["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Write a long essay about the history of Rome."}))
        frames: list[dict[str, Any]] = []
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=FRAME_TIMEOUT_SECONDS))
            frames.append(frame)
            if frame["type"] == "token" and sum(f["type"] == "token" for f in frames) == 3:
                own_redis.kill()
            if frame["type"] in ("done", "error"):
                break
    assert frames[0]["fallback"] is False
    assert frames[-1]["type"] == "error", frames[-1]
    assert "connection to the inference workers was lost" in frames[-1]["message"]
    # The prompt stays for regenerate; no partial answer is stored as if complete.
    assert [m["role"] for m in await _messages(web, token, cut["id"])] == ["user"]

    # During the outage: new chats get the labelled fallback, features needing Redis say 503.
    fallback = await _ask(web, token, during["id"], "Hello there.")
    assert fallback[0]["type"] == "start" and fallback[0]["fallback"] is True, fallback[0]
    assert fallback[-1]["type"] == "done", fallback[-1]
    async with httpx.AsyncClient(base_url=web) as http:
        # Fail closed: password guesses are counted in Redis, so are a link's clicks.
        for response in (
            await http.post("/api/v1/auth/login", json={"username": name, "password": "x" * 12}),
            await http.get(f"/s/{link['slug']}", headers=HUMAN),
        ):
            assert response.status_code == 503, (response.request.url, response.text)
            assert "try again shortly" in response.json()["detail"], response.text
        # Fail open: pastes are read from and written to the database, their limit is volume.
        read = await http.get(f"/p/{paste.json()['id']}/raw")
        assert read.status_code == 200 and read.text == "kept", read.text
        made = await http.post("/api/v1/pastes", json={"content": "new"}, headers=bearer(token))
        assert made.status_code == 201, made.text

    # Redis comes back empty: the web process and both client-bots carry on by themselves.
    own_redis.start()
    restarted = time.monotonic()
    await cluster.wait_for_workers(web, 2)
    recovered = time.monotonic() - restarted
    log.warning("client-bots advertised again %.1f s after Redis came back", recovered)
    assert answering.poll() is None and idle.poll() is None
    for _ in range(2):  # both client-bots answer again (one request each at a time)
        frames = await _ask(web, token, after["id"], "Name a colour.")
        assert frames[0]["fallback"] is False and frames[-1]["type"] == "done", frames[-1]
    # Pooled connections from before the restart are replaced, not failed once each.
    async with httpx.AsyncClient(base_url=web) as http:
        for _ in range(20):
            assert (await http.get(f"/s/{link['slug']}", headers=HUMAN)).status_code == 302
        assert (
            await http.post("/api/v1/auth/login", json={"username": name, "password": "x" * 12})
        ).status_code == 401
    roles = [m["role"] for m in await _messages(web, token, after["id"])]
    assert roles == ["user", "assistant"] * 2
    answering.send_signal(signal.SIGTERM)
    assert answering.wait(timeout=30) == 0
