"""The web relay taking over a request entry that its predecessor left pending (real Redis)."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import pytest
import redis.asyncio as redis
from pydantic import BaseModel

from meatlizard.bots.web_relay import DiscordWebRelay
from meatlizard.core.cache import RedisCache
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.discord_gateway import DiscordRelayGateway
from meatlizard.relay.envelope import Keyring
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import (
    CancelPayload,
    ClientMetricsPayload,
    GpuStats,
    PayloadSealer,
    RequestPayload,
)
from tests.fixtures.cluster import KEY
from tests.helpers import until


async def test_a_taken_over_request_the_web_gave_up_on_stops_the_client_bot(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "CLAIM_IDLE_SECONDS", 0.0)  # take over at once
    client = redis.Redis.from_url(redis_url)
    cache = RedisCache(redis_url, prefix=f"test:{uuid4().hex}:")
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(cache, window_seconds=300))
    request = RequestPayload(session_id="s", request_id=uuid4().hex, prompt="hi")
    posted: list[BaseModel] = []
    gateway = DiscordRelayGateway("smollm2", heartbeat_seconds=60.0)
    relay = DiscordWebRelay(redis_url=redis_url, sealer=sealer, worker_id="relay", relay=gateway)

    async def send(session_id: str, payload: BaseModel) -> None:
        posted.append(payload)

    gateway.attach(send)
    relay.attach(send)
    gateway.heartbeat(
        ClientMetricsPayload(
            timestamp=time.time(), gpu_stats=GpuStats(), tokens_per_second=0.0, is_online=True
        )
    )
    try:
        await client.xgroup_create(keys.REQUESTS_STREAM, keys.WORKER_GROUP, id="0", mkstream=True)
        await client.xadd(keys.REQUESTS_STREAM, {"env": sealer.seal(request)})
        # A predecessor read it (it posted attempt 1) and died; then the web side gave up.
        await client.xreadgroup(keys.WORKER_GROUP, "relay", {keys.REQUESTS_STREAM: ">"}, count=1)
        await client.set(keys.abandoned_key(request.request_id), b"1", ex=60)
        running = asyncio.create_task(relay.run())
        await until(lambda: posted, "the relay posts the cancel", within=30)
        relay.stop()
        await running
        assert posted == [CancelPayload(session_id="s", request_id=request.request_id)]
        assert await client.xpending(keys.REQUESTS_STREAM, keys.WORKER_GROUP) == {
            "pending": 0,
            "min": None,
            "max": None,
            "consumers": [],
        }
    finally:
        await client.delete(keys.REQUESTS_STREAM, keys.abandoned_key(request.request_id))
        await client.aclose()
        await cache.close()
