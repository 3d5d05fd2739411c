"""PostgreSQL stopped while an answer streams: the answer is stored once it is back."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.fixtures.cluster import Cluster
from tests.fixtures.services import OwnPostgres, OwnRedis
from tests.helpers import bearer, create_session, socket_url, until, user_token

pytestmark = pytest.mark.model

FRAME_TIMEOUT_SECONDS = 90
LOG_WAIT_SECONDS = 60


async def _wait_for_line(log: Path, text: str) -> None:
    """Wait until a process log mentions `text` (bounded)."""
    await until(
        lambda: text in log.read_text(errors="replace"),
        f"{text!r} logged",
        within=LOG_WAIT_SECONDS,
        every=0.1,
    )


async def test_answer_finished_while_the_database_is_down_is_stored(
    own_redis: OwnRedis, own_postgres: OwnPostgres, cluster: Cluster
) -> None:
    cluster.env["DATABASE_URL"] = own_postgres.url
    cluster.env["REDIS_URL"] = own_redis.url
    web = await cluster.web()
    cluster.worker("gpu-db")
    await cluster.wait_for_workers(web, 1)
    async with httpx.AsyncClient(base_url=web) as http:
        token = await user_token(http)
        session = await create_session(http, token, temperature=0.0)
    web_log = next(cluster.logs.glob("web-*.log"))
    frames: list[dict[str, Any]] = []
    async with websockets.connect(
        socket_url(web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Name a colour."}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=FRAME_TIMEOUT_SECONDS))
        assert frame["type"] == "start"
        own_postgres.stop()
        # The answer finishes streaming while the database is down: its store waits.
        await _wait_for_line(web_log, "storing the answer of session")
        # Meanwhile a new socket is refused with a reason, and HTTP says 503 with a message.
        async with websockets.connect(
            socket_url(web, session["id"]), additional_headers=bearer(token)
        ) as refused:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(refused.recv(), timeout=FRAME_TIMEOUT_SECONDS)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        assert "database is unavailable" in closed.value.rcvd.reason
        async with httpx.AsyncClient(base_url=web) as http:
            down = await http.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
        assert down.status_code == 503 and "database is unavailable" in down.json()["detail"]
        own_postgres.start()
        restarted = time.monotonic()
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=FRAME_TIMEOUT_SECONDS))
            frames.append(frame)
            if frame["type"] in ("done", "error"):
                break
        stored_after = time.monotonic() - restarted
    assert frames[-1]["type"] == "done", frames[-1]
    text = "".join(f["text"] for f in frames if f["type"] == "token")
    async with httpx.AsyncClient(base_url=web) as http:
        detail = (
            await http.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
        ).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["content"] == text and text
    print(f"answer stored {stored_after:.1f} s after PostgreSQL came back")
