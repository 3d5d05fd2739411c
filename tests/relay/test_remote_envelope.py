"""A real client-bot worker refuses replayed, tampered and stale requests before the model."""

from __future__ import annotations

import time

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
HANG_GUARD_S = 120.0


def _request(request_id: str) -> RequestPayload:
    return RequestPayload(
        session_id="s-replay", request_id=request_id, prompt="Say hi.", max_tokens=4
    )


async def test_worker_answers_once_and_refuses_copies(
    cluster: Cluster, cluster_env: dict[str, str]
) -> None:
    client = redis.Redis.from_url(cluster_env["REDIS_URL"])
    try:
        cluster.worker("gpu-replay")
        await until(
            lambda: client.exists(keys.worker_key("gpu-replay")),
            "the worker is advertised",
            within=HANG_GUARD_S,
        )
        guard = ReplayGuard(MemoryCache(), window_seconds=300)
        sealer = PayloadSealer(Keyring.from_hex(KEY), guard)
        genuine = sealer.seal(_request("r-genuine"))
        tampered = bytearray(sealer.seal(_request("r-tampered")))
        tampered[-1] ^= 1
        stale_sealer = PayloadSealer(sealer.keyring, sealer.guard, clock=lambda: time.time() - 301)
        for blob in (genuine, genuine, bytes(tampered), stale_sealer.seal(_request("r-stale"))):
            await client.xadd(keys.REQUESTS_STREAM, {"env": blob})
        # The worker deletes each entry once handled, answered or refused.
        await until(lambda: _drained(client), "every entry is handled", within=HANG_GUARD_S)
        answered = await client.xrange(keys.reply_stream("r-genuine"))
        for refused in ("r-tampered", "r-stale"):
            assert await client.xlen(keys.reply_stream(refused)) == 0
    finally:
        await client.aclose()
    claims = [f for _, f in answered if b"claim" in f]
    assert len(claims) == 1, answered  # one answer only, for the first copy
    assert answered[-1][1].keys() == {b"env"}
    final = await sealer.open(answered[-1][1][b"env"], scope="reply", request_id="r-genuine")
    assert final.type == "response"
    log = cluster.log_tail("gpu-replay")
    assert "nonce already seen" in log
    assert "failed authentication" in log
    assert "too old" in log


async def _drained(client: redis.Redis) -> bool:
    return bool(await client.xlen(keys.REQUESTS_STREAM) == 0)
