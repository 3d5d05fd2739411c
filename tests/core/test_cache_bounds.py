"""The in-process cache and memos stay within their bounds, and expired entries go unread."""

from __future__ import annotations

import pytest

from meatlizard.core.cache import MemoryCache, cache_from_settings
from meatlizard.core.settings import load_settings
from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.hot import CachedPaste, PasteCache, cache_key
from meatlizard.pastes.models import Paste
from meatlizard.relay.envelope import EnvelopeError, Keyring
from meatlizard.relay.replay import SEEN_PREFIX, ReplayGuard
from meatlizard.relay.wire import ChunkPayload, PayloadSealer
from tests.helpers import until

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
KIB = 1024


async def test_bytes_are_bounded_and_the_least_recently_used_go_first() -> None:
    cache = MemoryCache(max_bytes=1024 * KIB)
    value = b"x" * (100 * KIB)
    for i in range(50):
        await cache.set(f"paste:{i}", value, ttl_seconds=300)
        await cache.get("paste:0")  # read on and on: stays
        assert cache.used_bytes <= 1024 * KIB
    assert len(cache) < 11
    assert await cache.get("paste:0") == value
    assert await cache.get("paste:49") == value
    assert await cache.get("paste:1") is None


async def test_expired_entries_vanish_without_being_read() -> None:
    cache = MemoryCache(sweep_seconds=0.01)
    for i in range(100):
        await cache.set(f"short:{i}", b"y" * KIB, ttl_seconds=0.02)
    await cache.incr("counter", ttl_seconds=0.02)
    assert cache.used_bytes > 100 * KIB
    await until(lambda: len(cache) == 0, "the expired entries are swept", within=10, every=0.01)
    assert cache.used_bytes == 0
    await cache.close()


async def test_entries_stored_again_do_not_pile_up_in_the_expiry_heap() -> None:
    cache = MemoryCache(sweep_seconds=3600)
    for _ in range(10_000):
        await cache.set("again", b"z", ttl_seconds=60)
    assert len(cache._store._heap) < 200
    assert await cache.get("again") == b"z"
    await cache.close()


async def test_pinned_entries_are_never_evicted_before_they_expire() -> None:
    cache = MemoryCache(max_keys=10, max_bytes=64 * KIB)
    cache.pin("keep:")
    await cache.set("keep:me", b"1", ttl_seconds=300)
    for i in range(100):
        await cache.set(f"other:{i}", b"o" * KIB, ttl_seconds=300)
    assert await cache.get("keep:me") == b"1"
    assert await cache.get("other:0") is None


async def test_a_full_cache_cannot_forget_a_replay_record() -> None:
    cache = MemoryCache(max_keys=20, max_bytes=16 * KIB)
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(cache, window_seconds=60))
    blob = sealer.seal(ChunkPayload(session_id="s", request_id="r", sequence=0, text="hi"))
    await sealer.open(blob, scope="reply")
    for i in range(200):  # pastes and links pushing every other entry out
        await cache.set(f"paste:{i}", b"p" * KIB, ttl_seconds=300)
    assert any(name.startswith(SEEN_PREFIX) for name in cache.names())
    with pytest.raises(EnvelopeError, match="replayed"):
        await sealer.open(blob, scope="reply")


def test_the_setting_bounds_the_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_MEMORY_MAX_BYTES", str(8 * 1024 * KIB))
    cache = cache_from_settings(load_settings())
    assert isinstance(cache, MemoryCache)
    assert cache._store.max_bytes == 8 * 1024 * KIB


async def test_decoded_pastes_stay_within_their_bytes() -> None:
    cache = MemoryCache()
    pastes = PasteCache(cache, 300, memo_bytes=2048 * KIB)
    for i in range(60):
        content = f"{i}: " + "é" * (20 * KIB)  # two bytes a character in the cached JSON
        entry = CachedPaste(
            id=f"p{i}",
            title="",
            language="text",
            size=len(content.encode()),
            encrypted=False,
            expires_ts=None,
            content=content,
            lines="<span>" + content + "</span>",
            version=content_version(content, "text"),
            raw_tag="t",
        )
        await cache.set(cache_key(entry.id), entry.encode(), ttl_seconds=300)
        found = await pastes.lookup(entry.id)
        assert found is not None and found.content == content
        assert pastes.memo_bytes <= 2048 * KIB


async def test_remembered_pastes_make_room_like_any_cached_copy() -> None:
    # Pastes the routes remember are copies: under a steady stream of new ones the cache
    # stays within its bytes (they once were pinned like locks, and piled up until expiry).
    cache = MemoryCache(max_bytes=1024 * KIB)
    pastes = PasteCache(cache, 300)
    for i in range(60):
        content = f"{i}: " + "x" * (30 * KIB)
        paste = Paste(
            id=f"p{i}", title="", language="text", content=content, size=len(content),
            visibility="unlisted", burn_after_read=False, encrypted=False, expires_at=None,
            password_hash=None,
        )  # fmt: skip
        await pastes.remember(paste, "<span>x</span>", since=pastes.started())
        assert cache.used_bytes <= 1024 * KIB
    assert await pastes.lookup("p59") is not None  # the newest is cached
    assert await pastes.lookup("p0") is None  # the oldest made room


async def test_decoded_pastes_go_once_their_copies_have_expired() -> None:
    # The memo keeps a decoded paste no longer than its cached copy can live.
    now = [0.0]
    cache = MemoryCache()
    pastes = PasteCache(cache, 300, monotonic=lambda: now[0])
    for paste_id in ("p1", "p2"):
        content = f"hello from {paste_id}"
        entry = CachedPaste(
            id=paste_id, title="", language="text", size=len(content), encrypted=False,
            expires_ts=None, content=content, lines=f"<span>{content}</span>",
            version=content_version(content, "text"), raw_tag="t",
        )  # fmt: skip
        await cache.set(cache_key(paste_id), entry.encode(), ttl_seconds=300)
    assert await pastes.lookup("p1") is not None
    one = pastes.memo_bytes
    assert pastes.memo_entries == 1 and one > 0
    now[0] += 301
    assert await pastes.lookup("p2") is not None
    assert pastes.memo_entries == 1 and pastes.memo_bytes == one  # p1 went, p2 came
