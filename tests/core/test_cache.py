"""The cache and rate limiter, on the in-process and the Redis implementation alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import pytest_asyncio

from meatlizard.core.cache import Cache, MemoryCache, RedisCache
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.settings import Rate
from tests.fixtures.backends import REDIS_URL
from tests.helpers import ManualClock


@pytest.fixture(params=["memory", "redis"])
def cache_url(request: pytest.FixtureRequest) -> str | None:
    """None for the in-process cache, else the test Redis (skipped when unreachable)."""
    return None if request.param == "memory" else str(request.getfixturevalue("redis_url"))


@pytest_asyncio.fixture
async def cache(cache_url: str | None) -> AsyncIterator[Cache]:
    if cache_url is None:
        yield MemoryCache()
        return
    url = cache_url
    prefix = f"test:{uuid4().hex}:"
    redis_cache = RedisCache(url, prefix=prefix)
    try:
        yield redis_cache
    finally:
        keys = [k async for k in redis_cache.client.scan_iter(match=prefix + "*")]
        if keys:
            await redis_cache.client.delete(*keys)
        await redis_cache.close()


async def test_get_set_delete(cache: Cache) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"v")
    assert await cache.get("k") == b"v"
    assert await cache.ttl("k") is None
    await cache.delete("k")
    await cache.delete("k")  # deleting a missing key is fine
    assert await cache.get("k") is None
    await cache.ping()


async def test_values_expire(cache: Cache) -> None:
    await cache.set("short", b"1", ttl_seconds=0.05)
    ttl = await cache.ttl("short")
    assert ttl is not None and 0 < ttl <= 0.05
    await asyncio.sleep(0.1)
    assert await cache.get("short") is None


async def test_set_if_absent_has_exactly_one_winner(cache: Cache) -> None:
    results = await asyncio.gather(
        *(cache.set_if_absent("lock", str(i).encode(), ttl_seconds=10) for i in range(50))
    )
    assert results.count(True) == 1
    winner = results.index(True)
    assert await cache.get("lock") == str(winner).encode()


async def test_a_cached_copy_is_added_once_and_expires(cache: Cache) -> None:
    assert await cache.add("copy", b"first", ttl_seconds=10)
    assert not await cache.add("copy", b"second", ttl_seconds=10)
    assert await cache.get("copy") == b"first"
    ttl = await cache.ttl("copy")
    assert ttl is not None and 0 < ttl <= 10


async def test_concurrent_increments_are_exact(cache: Cache) -> None:
    values = await asyncio.gather(*(cache.incr("counter", ttl_seconds=60) for _ in range(200)))
    assert sorted(values) == list(range(1, 201))
    assert await cache.get("counter") == b"200"


async def test_ttl_is_set_only_when_the_counter_is_created(cache: Cache) -> None:
    await cache.incr("window", ttl_seconds=30)
    first = await cache.ttl("window")
    await cache.incr("window", ttl_seconds=300)
    second = await cache.ttl("window")
    assert first is not None and second is not None
    assert second <= first  # the later, longer TTL did not extend the window


async def test_prefixes_isolate_namespaces(cache: Cache) -> None:
    if isinstance(cache, RedisCache):
        other: Cache = RedisCache(REDIS_URL, prefix=cache.prefix + "x:")
    else:
        other = MemoryCache(prefix="other:")
    await cache.set("same", b"mine")
    assert await other.get("same") is None
    await other.close()


async def test_rate_limiter_allows_the_budget_then_refuses_until_next_window(
    cache: Cache,
) -> None:
    clock = ManualClock()
    limiter = RateLimiter(
        cache, f"t{uuid4().hex[:6]}", Rate(count=3, window_seconds=60), clock=clock
    )
    decisions = [await limiter.hit("alice") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert 0 < decisions[3].retry_after_seconds <= 60
    assert (await limiter.hit("bob")).allowed  # per identity
    assert not (await limiter.peek("alice")).allowed
    clock.now += 60
    assert (await limiter.hit("alice")).allowed
    await limiter.reset("alice")
    assert (await limiter.peek("alice")).remaining == 2


async def test_rate_limiter_window_slides_over_a_window_edge(cache: Cache) -> None:
    """A burst split across a fixed window's edge is still one burst: no reset mid-way."""
    clock = ManualClock()
    clock.now = 6_000_000.0 - 1  # one second before a 60 s window turns
    limiter = RateLimiter(
        cache, f"t{uuid4().hex[:6]}", Rate(count=5, window_seconds=60), clock=clock
    )
    assert all([(await limiter.hit("alice")).allowed for _ in range(3)])
    clock.now += 2  # one second into the next window: 3 of the last 60 s are still counted
    assert [(await limiter.hit("alice")).allowed for _ in range(3)] == [True, True, False]
    refused = await limiter.hit("alice")
    # 3 in the window sliding out (weighted 59/60) plus the 4 counted now: one more fits only
    # once those 3 have slid out entirely, at this window's end, 59 s on.
    assert not refused.allowed
    assert refused.retry_after_seconds == pytest.approx(59)
    clock.now += refused.retry_after_seconds - 0.5
    assert not (await limiter.peek("alice")).allowed
    clock.now += 0.6
    assert (await limiter.peek("alice")).allowed
    assert (await limiter.hit("alice")).allowed


async def test_rate_limiter_retry_after_waits_for_the_previous_window_to_slide_out(
    cache: Cache,
) -> None:
    clock = ManualClock()
    clock.now = 6_000_000.0 - 10  # ten seconds before the window turns
    limiter = RateLimiter(
        cache, f"t{uuid4().hex[:6]}", Rate(count=4, window_seconds=60), clock=clock
    )
    assert all([(await limiter.hit("bob")).allowed for _ in range(4)])
    clock.now += 10 + 15  # 15 s into the next window: 4 x 45/60 = 3 still count
    assert (await limiter.hit("bob")).allowed  # 3 + 1
    refused = await limiter.hit("bob")  # 3 + 2: over
    assert not refused.allowed
    # One more fits once 4 x w + 2 + 1 <= 4, i.e. w <= 1/4: 45 s into this window, 30 s on.
    assert refused.retry_after_seconds == pytest.approx(30)
    clock.now += 29.9
    assert not (await limiter.peek("bob")).allowed
    clock.now += 0.2
    assert (await limiter.hit("bob")).allowed


async def test_memory_cache_size_is_bounded() -> None:
    cache = MemoryCache(max_keys=100)
    for i in range(250):
        await cache.set(f"k{i}", b"x")
    assert len(cache) <= 100
    assert await cache.get("k249") == b"x"  # the newest survive
    assert await cache.get("k0") is None


async def test_memory_cache_expiry_follows_its_clock() -> None:
    clock = ManualClock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", ttl_seconds=5)
    clock.now += 4.9
    assert await cache.get("k") == b"v"
    clock.now += 0.2
    assert await cache.get("k") is None


async def test_renew_and_release_only_touch_the_holders_value(cache: Cache) -> None:
    assert await cache.set_if_absent("lease", b"mine", ttl_seconds=0.5)
    assert not await cache.renew("lease", b"theirs", ttl_seconds=60)
    assert not await cache.release("lease", b"theirs")
    assert await cache.renew("lease", b"mine", ttl_seconds=60)
    ttl = await cache.ttl("lease")
    assert ttl is not None and ttl > 30
    assert await cache.release("lease", b"mine")
    assert await cache.get("lease") is None
    assert not await cache.renew("lease", b"mine", ttl_seconds=60)  # gone: not recreated


async def test_touch_renews_whatever_the_key_holds(cache: Cache) -> None:
    await cache.set_if_absent("counter", b"1", ttl_seconds=None)
    assert await cache.ttl("counter") is None
    assert await cache.touch("counter", ttl_seconds=100)
    left = await cache.ttl("counter")
    assert left is not None and 90 < left <= 100
    assert await cache.get("counter") == b"1"
    assert not await cache.touch("missing", ttl_seconds=100)
    assert await cache.get("missing") is None


async def test_a_renewed_counter_gets_its_full_ttl_at_every_increment(cache: Cache) -> None:
    await cache.incr("renewed", ttl_seconds=100)
    await cache.touch("renewed", ttl_seconds=5)  # as if most of its time had passed
    assert await cache.incr("renewed", ttl_seconds=100, renew=True) == 2
    left = await cache.ttl("renewed")
    assert left is not None and left > 90
