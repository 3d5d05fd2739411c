"""A client-bot with several slots takes that many requests from the stream at once."""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from meatlizard.core.cache import MemoryCache
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.envelope import Keyring
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import PayloadSealer, RequestPayload
from tests.fixtures.cluster import KEY, Cluster
from tests.helpers import until

pytestmark = pytest.mark.model
WAIT_S = 300.0  # a bound only: every wait ends as soon as its condition holds
SLOTS = 4


def _request(n: int) -> RequestPayload:
    return RequestPayload(
        session_id=f"s-slots-{n}",
        request_id=f"r-slots-{n}",
        prompt=f"Write a long story about the number {n}.",
        temperature=0.0,
        max_tokens=32,
    )


def _entry_time(entry_id: bytes) -> tuple[int, int]:
    ms, seq = entry_id.decode().split("-")
    return int(ms), int(seq)


async def test_a_worker_with_four_slots_takes_four_requests_at_once(
    cluster: Cluster, cluster_env: dict[str, str]
) -> None:
    client = redis.Redis.from_url(cluster_env["REDIS_URL"])
    try:
        cluster.worker("gpu-slots", MODEL_PARALLEL=str(SLOTS))
        presence = keys.worker_key("gpu-slots")
        await until(lambda: client.exists(presence), "the worker is advertised", within=WAIT_S)
        assert await client.hget(presence, "slots") == str(SLOTS).encode()
        assert await client.hget(presence, "free") == str(SLOTS).encode()
        sealer = PayloadSealer(
            Keyring.from_hex(KEY), ReplayGuard(MemoryCache(), window_seconds=300)
        )
        for n in range(SLOTS):
            await client.xadd(keys.REQUESTS_STREAM, {"env": sealer.seal(_request(n))})
        await until(lambda: _all_answered(client), "every request is answered", within=WAIT_S)
        replies = [await client.xrange(keys.reply_stream(f"r-slots-{n}")) for n in range(SLOTS)]
    finally:
        await client.aclose()
    claims = [_entry_time(entries[0][0]) for entries in replies]
    finals = [_entry_time(entries[-1][0]) for entries in replies]
    assert all(b"claim" in entries[0][1] for entries in replies)
    # Every request was taken before any answer was finished: four ran side by side.
    assert max(claims) < min(finals), (claims, finals)
    for n, entries in enumerate(replies):
        final = await sealer.open(entries[-1][1][b"env"], scope="r", request_id=f"r-slots-{n}")
        assert final.type == "response"


async def _all_answered(client: redis.Redis) -> bool:
    return bool(await client.xlen(keys.REQUESTS_STREAM) == 0)
