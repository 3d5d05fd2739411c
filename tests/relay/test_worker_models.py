"""A model registered on a client-bot's box is announced and answers, with no restart."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest
import websockets

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.registry import Registry, file_sha256
from tests.fixtures.cluster import Cluster
from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token

pytestmark = pytest.mark.model
ANNOUNCED_BOUND_S = 90.0


async def _served(http: httpx.AsyncClient) -> dict[str, object]:
    models: dict[str, object] = (await http.get("/api/v1/chat/models")).json()["models"]
    return models


async def test_a_model_added_on_the_box_is_announced_and_chosen(
    cluster: Cluster, tmp_path: Path
) -> None:
    bundled = bundled_model_path()
    assert bundled is not None
    box = tmp_path / "gpu-box"  # the client-bot's own data folder, not the web side's
    web = await cluster.web()
    cluster.worker("gpu-models", DATA_DIR=str(box), MODEL_REGISTRY_POLL_SECONDS="0.2")
    await cluster.wait_for_workers(web, 1)
    async with httpx.AsyncClient(base_url=web) as http:
        assert "tiny" not in await _served(http)

        book = Registry(box)  # what `meatlizard models add tiny FILE` does on that box
        staged = book.staging("tiny")
        shutil.copyfile(bundled, staged)
        book.register("tiny", staged, file_sha256(staged))
        for _ in range(int(ANNOUNCED_BOUND_S / 0.2)):  # announced with a presence heartbeat
            if "tiny" in await _served(http):
                break
            await asyncio.sleep(0.2)
        assert "tiny" in await _served(http), "the new model was never announced"

        token = await user_token(http)
        session = await create_session(http, token, model_alias="tiny", temperature=0.0)
    async with websockets.connect(
        socket_url(web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Say hello."}))
        frames = await collect_answer(ws)
    assert frames[0]["type"] == "start" and frames[0]["fallback"] is False, frames[0]
    assert frames[-1]["type"] == "done", frames[-1]
    await cluster.wait_for_log("gpu-models", "model tiny loaded")
