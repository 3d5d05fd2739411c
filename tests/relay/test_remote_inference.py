"""Remote inference end to end: web and client-bot processes, Redis, PostgreSQL, SmolLM2."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
import websockets

from meatlizard.relay import redis_keys as keys
from tests.fixtures.cluster import Cluster
from tests.helpers import (
    bearer,
    collect_answer,
    create_session,
    socket_url,
    until,
    user_token,
)

pytestmark = pytest.mark.model


async def _ask(base: str, token: str, session_id: str, prompt: str, **kw: int) -> list[dict]:
    async with websockets.connect(
        socket_url(base, session_id), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": prompt}))
        return await collect_answer(ws, **kw)


async def test_two_web_processes_two_workers(cluster: Cluster) -> None:
    web_a, web_b = await cluster.web(), await cluster.web()
    cluster.worker("gpu-a")
    cluster.worker("gpu-b")
    await cluster.wait_for_workers(web_a, 2)
    await cluster.wait_for_workers(web_b, 2)
    async with httpx.AsyncClient(base_url=web_a) as http:
        token = await user_token(http)
        session = await create_session(http, token, temperature=0.0)
    # The same session, its answers delivered by whichever web process holds the socket.
    first = await _ask(web_a, token, session["id"], "Name a colour.")
    second = await _ask(web_b, token, session["id"], "Name an animal.")
    for frames in (first, second):
        assert frames[0]["type"] == "start" and frames[0]["fallback"] is False
        assert frames[-1]["type"] == "done", frames[-1]
        assert frames[-1]["tokens"] >= 1
    # Two sessions at once are served by both workers in parallel.
    async with httpx.AsyncClient(base_url=web_b) as http:
        other = await create_session(http, token)
    results = await asyncio.gather(
        _ask(web_a, token, session["id"], "Count to five."),
        _ask(web_b, token, other["id"], "Count to five."),
    )
    assert all(r[-1]["type"] == "done" for r in results)
    async with httpx.AsyncClient(base_url=web_b) as http:
        detail = (
            await http.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
        ).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"] * 3


async def test_no_worker_means_labelled_fallback_until_one_returns(cluster: Cluster) -> None:
    web = await cluster.web()
    async with httpx.AsyncClient(base_url=web) as http:
        token = await user_token(http)
        session = await create_session(http, token)
        ready = (await http.get("/readyz", headers=bearer(token))).json()  # the first: admin
    assert ready["inference"]["state"] == "fallback"
    frames = await _ask(web, token, session["id"], "hello")
    assert frames[0]["fallback"] is True
    assert frames[-1]["type"] == "done"
    cluster.worker("gpu-late")
    await cluster.wait_for_workers(web, 1)
    frames = await _ask(web, token, session["id"], "hello again")
    assert frames[0]["fallback"] is False
    assert frames[-1]["type"] == "done"


async def test_worker_metrics_are_stored_for_admins(cluster: Cluster) -> None:
    web = await cluster.web()
    cluster.worker("gpu-metrics")
    await cluster.wait_for_workers(web, 1)
    async with httpx.AsyncClient(base_url=web) as http:
        admin = await user_token(http)
        for _ in range(300):  # hang guard: a snapshot is stored every METRICS_INTERVAL_SECONDS
            data = (await http.get("/api/v1/admin/metrics", headers=bearer(admin))).json()
            if data["worker_metrics"]:
                break
            await asyncio.sleep(0.1)
    snapshot = data["worker_metrics"][0]
    assert snapshot["worker_id"] == "gpu-metrics"
    assert snapshot["is_online"] is True
    # No GPU on this machine: the stats are reported as unknown, not invented.
    assert snapshot["gpu_stats"] == {
        "utilization": None,
        "memory_free": None,
        "memory_used": None,
        "temperature": None,
    }
    assert data["inference"]["workers"]["gpu-metrics"]["aliases"] == ["smollm2"]


async def test_stop_reaches_the_worker(cluster: Cluster) -> None:
    web = await cluster.web()
    cluster.worker("gpu-stop")
    await cluster.wait_for_workers(web, 1)
    async with httpx.AsyncClient(base_url=web) as http:
        token = await user_token(http)
        session = await create_session(http, token)
    frames = await _ask(
        web, token, session["id"], "Write a long essay about Rome.", stop_after_tokens=3
    )
    assert frames[-1]["type"] == "done"
    assert frames[-1]["status"] == "stopped"
    assert frames[-1]["tokens"] < 100


async def test_worker_killed_mid_answer_gives_a_clear_error_not_a_hang(cluster: Cluster) -> None:
    web = await cluster.web()
    doomed = cluster.worker("gpu-doomed")
    await cluster.wait_for_workers(web, 1)
    async with httpx.AsyncClient(base_url=web) as http:
        token = await user_token(http)
        session = await create_session(http, token)
    async with websockets.connect(
        socket_url(web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Write a long essay about the history of Rome."}))
        frames = []
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            frames.append(frame)
            if frame["type"] == "token" and len(frames) == 4:
                doomed.send_signal(signal.SIGKILL)
            if frame["type"] in ("done", "error"):
                break
    assert frames[-1]["type"] == "error"
    assert "stopped mid-answer" in frames[-1]["message"]
    async with httpx.AsyncClient(base_url=web) as http:
        detail = (
            await http.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
        ).json()
    # The prompt is kept (regenerate can answer it); no half answer was stored.
    assert [m["role"] for m in detail["messages"]] == ["user"]
    cluster.worker("gpu-rescue")
    await cluster.wait_for_workers(web, 1)
    async with websockets.connect(
        socket_url(web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"type": "regenerate"}))
        again = await collect_answer(ws)
    assert again[-1]["type"] == "done"


async def test_chats_waiting_for_a_busy_worker_hear_their_place_in_line(cluster: Cluster) -> None:
    web = await cluster.web()
    cluster.worker("gpu-one-slot")  # MODEL_PARALLEL=1: one answer at a time
    await cluster.wait_for_workers(web, 1)
    async with httpx.AsyncClient(base_url=web) as http:
        token = await user_token(http)
        sessions = [(await create_session(http, token))["id"] for _ in range(3)]
    sockets = [
        await websockets.connect(socket_url(web, sid), additional_headers=bearer(token))
        for sid in sessions
    ]
    try:
        await sockets[0].send(json.dumps({"prompt": "Write a long essay about Rome."}))
        first = json.loads(await asyncio.wait_for(sockets[0].recv(), timeout=60))
        while first["type"] != "token":  # the worker is busy with the first chat
            first = json.loads(await asyncio.wait_for(sockets[0].recv(), timeout=60))
        await sockets[1].send(json.dumps({"prompt": "Write a long essay about Carthage."}))
        told: list[dict] = []  # the second chat is in line before the third one asks
        while not told or told[-1]["type"] != "queued":
            told.append(json.loads(await asyncio.wait_for(sockets[1].recv(), timeout=60)))
        await sockets[2].send(json.dumps({"prompt": "Say hi."}))
        answers = await asyncio.wait_for(
            asyncio.gather(*(collect_answer(ws) for ws in sockets)), timeout=300
        )
        answers[1] = told + answers[1]
    finally:
        for ws in sockets:
            await ws.close()
    assert all(frames[-1]["type"] == "done" for frames in answers)
    places = [[f["position"] for f in frames if f["type"] == "queued"] for frames in answers]
    assert places[1][0] == 0 and places[2][0] == 1  # "next", then "1 chat ahead of you"
    assert places[2][-1] == 0  # moved up when the first chat finished
    for frames in answers[1:]:  # told before its first token, never after
        kinds = [f["type"] for f in frames]
        assert kinds.index("queued") < kinds.index("token")


async def _answering_worker(client: redis.Redis) -> str:
    """Return the id of the worker that claimed the one request in flight."""
    async for key in client.scan_iter(match="ml:inference:reply:*"):
        for _, fields in await client.xrange(key):
            if b"claim" in fields:
                return fields[b"claim"].decode()
    raise AssertionError("no worker claimed the request")


async def test_worker_killed_beside_a_live_one_is_reported_at_once_and_not_redone(
    cluster: Cluster, cluster_env: dict[str, str]
) -> None:
    web = await cluster.web()
    workers = {name: cluster.worker(name) for name in ("gpu-left", "gpu-right")}
    await cluster.wait_for_workers(web, 2)
    async with httpx.AsyncClient(base_url=web) as http:
        token = await user_token(http)
        session = await create_session(http, token)
    client = redis.Redis.from_url(cluster_env["REDIS_URL"])
    try:
        async with websockets.connect(
            socket_url(web, session["id"]), additional_headers=bearer(token)
        ) as ws:
            await ws.send(json.dumps({"prompt": "Write a long essay about the history of Rome."}))
            frames: list[dict] = []
            doomed = ""
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                frames.append(frame)
                if frame["type"] == "token" and not doomed:
                    doomed = await _answering_worker(client)
                    workers[doomed].send_signal(signal.SIGKILL)
                if frame["type"] in ("done", "error"):
                    break
    finally:
        await client.aclose()
    # A Redis worker taking over would start the answer afresh: the user is told now, rather
    # than after the take-over, and the survivor never generates an answer nobody reads.
    assert frames[-1]["type"] == "error"
    assert "stopped mid-answer" in frames[-1]["message"]
    (survivor,) = set(workers) - {doomed}

    await cluster.wait_for_log(survivor, "the web side gave up on it")
    assert "taking over request entry" in cluster.log_tail(survivor)
    # The survivor is free for the next chat at once.
    again = await _ask(web, token, session["id"], "Say hi.")
    assert again[-1]["type"] == "done" and again[0]["fallback"] is False


async def test_answer_of_a_killed_web_process_is_stored_by_another(cluster: Cluster) -> None:
    doomed_web = await cluster.web()
    doomed = cluster.processes[-1]  # the process behind doomed_web
    survivor = await cluster.web()
    cluster.worker("gpu-steady")
    await cluster.wait_for_workers(doomed_web, 1)
    async with httpx.AsyncClient(base_url=survivor) as http:
        token = await user_token(http)
        session = await create_session(http, token)
    seen = ""
    async with websockets.connect(
        socket_url(doomed_web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Write a long essay about the history of Rome."}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            if frame["type"] == "token":
                seen += frame["text"]
                doomed.send_signal(signal.SIGKILL)  # the socket's process dies mid-answer
                break
    # The worker finishes the answer; the surviving web process adopts it and stores it.
    survivor_name = f"web-{survivor.rsplit(':', 1)[1]}"
    async with httpx.AsyncClient(base_url=survivor) as http:

        async def stored() -> list[dict[str, Any]] | None:
            url = f"/api/v1/chat/sessions/{session['id']}"
            messages: list[dict[str, Any]] = (await http.get(url, headers=bearer(token))).json()[
                "messages"
            ]
            return messages if len(messages) == 2 else None

        try:
            messages = await until(stored, "the survivor stores the adopted answer", within=90)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{cluster.log_tail(survivor_name)}") from None
    # The sweeper logs once the answer is committed: the row can be read before the line is.
    await cluster.wait_for_log(survivor_name, "stored the answer to orphaned request")
    prompt, answer = messages
    assert (prompt["role"], answer["role"]) == ("user", "assistant")
    assert answer["content"].startswith(seen) and len(answer["content"]) > len(seen)
    assert not answer["is_fallback"] and answer["token_count"] > 1


async def test_request_taken_by_a_crashed_worker_is_redelivered(
    cluster: Cluster, cluster_env: dict[str, str]
) -> None:
    web = await cluster.web()
    client = redis.Redis.from_url(cluster_env["REDIS_URL"])
    try:
        await client.xgroup_create(keys.REQUESTS_STREAM, keys.WORKER_GROUP, id="0", mkstream=True)
        cluster.worker("gpu-live")
        await cluster.wait_for_workers(web, 1)
        async with httpx.AsyncClient(base_url=web) as http:
            token = await user_token(http)
            session = await create_session(http, token, temperature=0.0)
        # A "ghost" consumer grabs the next request and dies without answering: it had
        # read the entry (so it is pending for the ghost) but never acknowledges it.
        live_block = asyncio.Event()

        async def ghost() -> None:
            while True:
                got = await client.xreadgroup(
                    keys.WORKER_GROUP, "ghost", {keys.REQUESTS_STREAM: ">"}, count=1, block=50
                )
                if got and got[0][1]:
                    live_block.set()
                    return

        grabber = asyncio.create_task(ghost())
        # Keep the live worker busy on something else so the ghost wins the race.
        other = await _new_session(web, token)
        busy = asyncio.create_task(_ask(web, token, other, "Write a long essay about Rome."))
        await asyncio.sleep(1.0)
        answer = asyncio.create_task(_ask(web, token, session["id"], "Say hi."))
        await asyncio.wait_for(live_block.wait(), timeout=30)
        await grabber
        frames = await asyncio.wait_for(answer, timeout=120)
        await busy
    finally:
        await client.aclose()
    assert frames[-1]["type"] == "done", frames[-1]
    assert frames[0]["fallback"] is False
    assert "taking over request entry" in cluster.log_tail("gpu-live")
    # The redelivered request is answered and stored exactly once.
    async with httpx.AsyncClient(base_url=web) as http:
        detail = (
            await http.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
        ).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]


async def _new_session(base: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        return str((await create_session(http, token))["id"])
