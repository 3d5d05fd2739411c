"""The web side shows only authentic, fresh, first-seen reply entries (real Redis)."""

from __future__ import annotations

import logging
from uuid import uuid4

import pytest

from meatlizard.core.cache import RedisCache
from meatlizard.inference.engine import GenerationStats
from meatlizard.workers import keys
from meatlizard.workers.envelope import Keyring
from meatlizard.workers.gateway import RemoteInference
from meatlizard.workers.replay import ReplayGuard
from meatlizard.workers.wire import ChunkPayload, PayloadSealer, ResponsePayload
from tests.workers.conftest import KEY


async def test_forged_replayed_and_misrouted_entries_are_skipped(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = RedisCache(redis_url, prefix=f"test:{uuid4().hex}:")
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(cache, window_seconds=300))
    gateway = RemoteInference(redis_url, sealer, "smollm2")
    request_id = uuid4().hex
    stream = keys.reply_stream(request_id)

    def chunk(sequence: int, text: str, request: str = request_id) -> bytes:
        payload = ChunkPayload(session_id="s", request_id=request, sequence=sequence, text=text)
        return sealer.seal(payload)

    first = chunk(0, "Hello")
    tampered = bytearray(chunk(1, "EVIL"))
    tampered[-5] ^= 0x10
    entries = [
        {"claim": "gpu-a", "attempt": "1"},
        {"env": first},
        {"env": first},
        {"env": bytes(tampered)},
        {"env": chunk(1, "EVIL", request="another-request")},
        {"env": chunk(1, " world")},
        {
            "env": sealer.seal(
                ResponsePayload(
                    session_id="s", request_id=request_id, response="Hello world", metrics={}
                )
            )
        },
    ]
    try:
        for fields in entries:
            await gateway.redis.xadd(stream, fields)  # type: ignore[arg-type]
        with caplog.at_level(logging.WARNING):
            pieces = [
                p async for p in gateway._read_replies("s", request_id, 0.0, GenerationStats())
            ]
    finally:
        await gateway.redis.delete(stream)
        await gateway.close()
        keys_left = [k async for k in cache.client.scan_iter(match=cache.prefix + "*")]
        if keys_left:
            await cache.client.delete(*keys_left)
        await cache.close()
    assert pieces == ["Hello", " world"]
    assert caplog.text.count("ignoring reply entry") == 3
    assert "nonce already seen" in caplog.text
    assert "failed authentication" in caplog.text
    assert "another request" in caplog.text
