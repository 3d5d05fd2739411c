"""The web side shows only authentic, fresh, first-seen reply entries (real Redis)."""

from __future__ import annotations

import logging
from uuid import uuid4

import pytest

from meatlizard.core.cache import RedisCache
from meatlizard.inference.engine import GenerationStats
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.envelope import Keyring
from meatlizard.relay.gateway import RelayFailed
from meatlizard.relay.progress import Progress
from meatlizard.relay.redis_gateway import RESTARTED, RedisRelayGateway
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import ChunkPayload, PayloadSealer, ResponsePayload
from tests.fixtures.cluster import KEY


async def read_entries(
    redis_url: str, entries: list[dict[str, bytes | str]]
) -> tuple[list[str], Exception | None]:
    """Write reply entries (payloads sealed here) and read them as the web side would."""
    cache = RedisCache(redis_url, prefix=f"test:{uuid4().hex}:")
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(cache, window_seconds=300))
    gateway = RedisRelayGateway(redis_url, sealer, "smollm2")
    stream = keys.reply_stream("r")
    pieces: list[str] = []
    try:
        for fields in entries:
            if "payload" in fields:
                fields = {"env": sealer.seal(fields["payload"])}  # type: ignore[arg-type]
            await gateway.redis.xadd(stream, fields)  # type: ignore[arg-type]
        try:
            async for piece in gateway._read_replies(
                "s", "r", Progress("0-0", 0.0), GenerationStats()
            ):
                pieces.append(piece)
        except RelayFailed as exc:
            return pieces, exc
        return pieces, None
    finally:
        await gateway.redis.delete(stream)
        await gateway.close()
        keys_left = [k async for k in cache.client.scan_iter(match=cache.prefix + "*")]
        if keys_left:
            await cache.client.delete(*keys_left)
        await cache.close()


def chunk(sequence: int, text: str, attempt: int = 1) -> dict[str, object]:
    return {
        "payload": ChunkPayload(
            session_id="s", request_id="r", sequence=sequence, text=text, attempt=attempt
        )
    }


def response(text: str, attempt: int = 1) -> dict[str, object]:
    return {
        "payload": ResponsePayload(
            session_id="s", request_id="r", response=text, metrics={}, attempt=attempt
        )
    }


async def test_a_resumed_attempt_shows_each_chunk_once(redis_url: str) -> None:
    # A server-bot took the request over and the client-bot resent the answer from the start.
    entries = [
        {"claim": "relay", "attempt": "1"},
        chunk(0, "Hello"),
        {"claim": "relay", "attempt": "2"},
        chunk(0, "Hello"),
        chunk(1, " world"),
        response("Hello world"),
    ]
    pieces, failed = await read_entries(redis_url, entries)  # type: ignore[arg-type]
    assert (pieces, failed) == (["Hello", " world"], None)


async def test_a_new_generation_is_never_spliced_onto_shown_text(redis_url: str) -> None:
    entries = [
        {"claim": "gpu-a", "attempt": "1"},
        chunk(0, "Hello"),
        {"claim": "gpu-a", "attempt": "2"},  # restarted under the same name, generating afresh
        chunk(0, "Good", attempt=2),
        chunk(1, " day", attempt=2),
        response("Good day", attempt=2),
    ]
    pieces, failed = await read_entries(redis_url, entries)  # type: ignore[arg-type]
    assert pieces == ["Hello"]
    assert isinstance(failed, RelayFailed) and str(failed) == RESTARTED


async def test_a_new_generation_before_any_text_is_shown_in_full(redis_url: str) -> None:
    entries = [
        {"claim": "gpu-a", "attempt": "1"},
        {"claim": "gpu-a", "attempt": "2"},
        chunk(0, "Good", attempt=2),
        chunk(0, "Hello"),  # a late leftover of the first attempt
        chunk(1, " day", attempt=2),
        response("Hello"),
        response("Good day", attempt=2),
    ]
    pieces, failed = await read_entries(redis_url, entries)  # type: ignore[arg-type]
    assert (pieces, failed) == (["Good", " day"], None)


async def test_forged_replayed_and_misrouted_entries_are_skipped(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = RedisCache(redis_url, prefix=f"test:{uuid4().hex}:")
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(cache, window_seconds=300))
    gateway = RedisRelayGateway(redis_url, sealer, "smollm2")
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
                p
                async for p in gateway._read_replies(
                    "s", request_id, Progress("0-0", 0.0), GenerationStats()
                )
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
