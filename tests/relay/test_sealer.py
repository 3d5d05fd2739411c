"""Payload sealing with freshness and replay checks, on the in-process cache and on Redis."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import pytest_asyncio

from meatlizard.core.cache import Cache, MemoryCache, RedisCache
from meatlizard.core.settings import load_settings
from meatlizard.relay.envelope import EnvelopeError, Keyring
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import (
    ChunkPayload,
    ClientMetricsPayload,
    GpuStats,
    PayloadSealer,
    RequestPayload,
)
from tests.helpers import ManualClock

START = 1_735_689_600.0  # 2025-01-01, when the clocks of these tests start

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
NEW_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
WINDOW = 300.0


@pytest.fixture(params=["memory", "redis"])
def cache_factory(request: pytest.FixtureRequest) -> Callable[[], Cache]:
    """Make caches that share one store: one dict in-process, or one Redis database."""
    if request.param == "memory":
        shared = MemoryCache()
        return lambda: shared
    url = str(request.getfixturevalue("redis_url"))
    prefix = f"test:{uuid4().hex}:"
    return lambda: RedisCache(url, prefix=prefix)


@pytest_asyncio.fixture
async def caches(cache_factory: Callable[[], Cache]) -> AsyncIterator[list[Cache]]:
    made = [cache_factory(), cache_factory()]
    yield made
    for cache in made:
        if isinstance(cache, RedisCache):
            keys = [k async for k in cache.client.scan_iter(match=cache.prefix + "*")]
            if keys:
                await cache.client.delete(*keys)
        await cache.close()


def _sealer(cache: Cache, clock: ManualClock, ring: Keyring | None = None) -> PayloadSealer:
    guard = ReplayGuard(cache, window_seconds=WINDOW, clock=clock)
    return PayloadSealer(ring or Keyring.from_hex(KEY), guard, clock=clock)


def _chunk(session_id: str = "s1", request_id: str = "r1") -> ChunkPayload:
    return ChunkPayload(session_id=session_id, request_id=request_id, sequence=0, text="hi")


async def test_round_trip(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    sealer = _sealer(caches[0], clock)
    request = RequestPayload(session_id="s1", request_id="r1", prompt="Name a colour.")
    opened = await sealer.open(sealer.seal(request), scope="request")
    assert opened == request


async def test_the_same_envelope_twice_is_refused_and_logged(
    caches: list[Cache], caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(START)
    sealer = _sealer(caches[0], clock)
    blob = sealer.seal(_chunk())
    assert await sealer.open(blob, scope="reply") == _chunk()
    with caplog.at_level(logging.WARNING), pytest.raises(EnvelopeError, match="replayed"):
        await sealer.open(blob, scope="reply")
    assert "nonce already seen" in caplog.text and "'r1'" in caplog.text


async def test_replay_is_caught_across_two_sealer_instances(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    first, second = _sealer(caches[0], clock), _sealer(caches[1], clock)
    blob = first.seal(_chunk())
    await first.open(blob, scope="reply")
    with pytest.raises(EnvelopeError, match="replayed"):
        await second.open(blob, scope="reply")


async def test_redelivery_of_one_stream_entry_is_not_a_replay(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    first, second = _sealer(caches[0], clock), _sealer(caches[1], clock)
    request = RequestPayload(session_id="s1", request_id="r1", prompt="hi")
    blob = first.seal(request)
    await first.open(blob, scope="request", token="1700-0")
    # Another worker takes over the same pending entry: allowed.
    assert await second.open(blob, scope="request", token="1700-0") == request
    # A copy added to the stream as a new entry: refused.
    with pytest.raises(EnvelopeError, match="replayed"):
        await second.open(blob, scope="request", token="1800-0")


async def test_scopes_are_separate(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    sealer = _sealer(caches[0], clock)
    blob = sealer.seal(_chunk())
    await sealer.open(blob, scope="cancel:gpu-a")
    await sealer.open(blob, scope="cancel:gpu-b")


@pytest.mark.parametrize(
    ("shift", "reason"),
    [(WINDOW + 1, "too old"), (-(WINDOW + 1), "from the future")],
)
async def test_messages_outside_the_window_are_refused(
    caches: list[Cache], shift: float, reason: str
) -> None:
    sender_clock, receiver_clock = ManualClock(START), ManualClock(START)
    receiver_clock.now += shift
    blob = _sealer(caches[0], sender_clock).seal(_chunk())
    receiver = _sealer(caches[1], receiver_clock)
    with pytest.raises(EnvelopeError, match=reason):
        await receiver.open(blob, scope="reply")
    with pytest.raises(EnvelopeError, match=reason):
        receiver.open_snapshot(blob)
    receiver_clock.now -= shift  # inside the window again: accepted (nothing was recorded)
    await receiver.open(blob, scope="reply")


async def test_nonce_is_remembered_while_the_message_is_in_the_window(
    caches: list[Cache],
) -> None:
    clock = ManualClock(START)
    sealer = _sealer(caches[0], clock)
    blob = sealer.seal(_chunk())
    await sealer.open(blob, scope="reply")
    clock.now += WINDOW  # still inside the window: the nonce memory must still refuse it
    with pytest.raises(EnvelopeError, match="replayed"):
        await sealer.open(blob, scope="reply")
    key = next(iter(await _seen_keys(caches[0])))
    ttl = await caches[0].ttl(key)
    assert ttl is not None and ttl <= WINDOW + 1


async def _seen_keys(cache: Cache) -> list[str]:
    if isinstance(cache, RedisCache):
        found = [k async for k in cache.client.scan_iter(match=cache.prefix + "envelope:*")]
        return [k.decode().removeprefix(cache.prefix) for k in found]
    assert isinstance(cache, MemoryCache)
    return [name for name in cache.names() if "envelope:" in name]


async def test_wrong_session_or_request_is_refused(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    sealer = _sealer(caches[0], clock)
    with pytest.raises(EnvelopeError, match="another session"):
        await sealer.open(sealer.seal(_chunk()), scope="reply", session_id="s2", request_id="r1")
    with pytest.raises(EnvelopeError, match="another request"):
        await sealer.open(sealer.seal(_chunk()), scope="reply", session_id="s1", request_id="r2")


async def test_wrong_key_is_refused(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    blob = _sealer(caches[0], clock).seal(_chunk())
    other = _sealer(caches[1], clock, Keyring.from_hex(NEW_KEY))
    with pytest.raises(EnvelopeError, match="unknown or retired key id"):
        await other.open(blob, scope="reply")


async def test_rotation_old_key_accepted_in_grace_then_refused(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    old_sender = _sealer(caches[0], clock)
    deadline = datetime.fromtimestamp(clock.now, UTC) + timedelta(seconds=60)
    rotated = _sealer(caches[1], clock, Keyring.from_hex(NEW_KEY, [KEY], deadline))
    assert await rotated.open(old_sender.seal(_chunk()), scope="reply") == _chunk()
    # New messages are sealed with the current key only; an old-key receiver cannot open them.
    with pytest.raises(EnvelopeError, match="unknown or retired key id"):
        await old_sender.open(rotated.seal(_chunk()), scope="reply")
    clock.now += 60
    with pytest.raises(EnvelopeError, match="unknown or retired key id"):
        await rotated.open(old_sender.seal(_chunk()), scope="reply")
    assert await rotated.open(rotated.seal(_chunk()), scope="reply") == _chunk()


async def test_snapshots_open_repeatedly_but_stay_fresh(caches: list[Cache]) -> None:
    clock = ManualClock(START)
    sealer = _sealer(caches[0], clock)
    metrics = ClientMetricsPayload(
        timestamp=clock.now, gpu_stats=GpuStats(), tokens_per_second=1.0, is_online=True
    )
    blob = sealer.seal(metrics)
    assert sealer.open_snapshot(blob) == sealer.open_snapshot(blob) == metrics
    clock.now += WINDOW + 1
    with pytest.raises(EnvelopeError, match="too old"):
        sealer.open_snapshot(blob)


async def test_settings_build_a_rotating_sealer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYLOAD_ENCRYPTION_KEY", NEW_KEY)
    monkeypatch.setenv("PAYLOAD_PREVIOUS_KEYS", f"{KEY}, {'ab' * 32}")
    monkeypatch.setenv("PAYLOAD_PREVIOUS_KEYS_UNTIL", "2099-01-01T00:00:00")
    monkeypatch.setenv("PAYLOAD_MAX_AGE_SECONDS", "60")
    sealer = PayloadSealer.from_settings(load_settings(), MemoryCache())
    assert sealer.keyring.current == bytes.fromhex(NEW_KEY)
    assert sealer.keyring.previous == (bytes.fromhex(KEY), bytes.fromhex("ab" * 32))
    assert sealer.keyring.previous_until == datetime(2099, 1, 1, tzinfo=UTC)
    assert sealer.guard.window_seconds == 60
    old = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(MemoryCache(), window_seconds=60))
    assert await sealer.open(old.seal(_chunk()), scope="reply") == _chunk()
