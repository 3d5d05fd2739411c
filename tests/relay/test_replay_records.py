"""Replay records outlive the freshness window even in a full in-process cache; key deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meatlizard.core.cache import MemoryCache
from meatlizard.relay.envelope import (
    FIXED,
    ID_LENGTH,
    TAG_BYTES,
    EnvelopeError,
    Keyring,
    key_id,
    open_envelope,
)
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import ChunkPayload, PayloadSealer
from tests.helpers import ManualClock

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
OLD_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
WINDOW = 300.0
RECORDS = 3


def chunk(request_id: str) -> ChunkPayload:
    return ChunkPayload(session_id="s1", request_id=request_id, sequence=0, text="hi")


async def test_a_full_cache_refuses_new_messages_rather_than_forget_a_replay() -> None:
    wall, monotonic = ManualClock(1_735_689_600.0), ManualClock(1000.0)
    cache = MemoryCache(max_keys=RECORDS, clock=monotonic)
    sealer = PayloadSealer(
        Keyring.from_hex(KEY), ReplayGuard(cache, window_seconds=WINDOW, clock=wall), clock=wall
    )
    blobs = [sealer.seal(chunk(f"r{i}")) for i in range(RECORDS + 1)]
    for blob in blobs[:RECORDS]:
        await sealer.open(blob, scope="reply")
    with pytest.raises(EnvelopeError, match="replay records are full"):
        await sealer.open(blobs[RECORDS], scope="reply")
    for blob in blobs[:RECORDS]:  # every record is still there: each replay is refused
        with pytest.raises(EnvelopeError, match="replayed"):
            await sealer.open(blob, scope="reply")
    monotonic.now += WINDOW + 2  # the records expire with the window: room again
    assert (await sealer.open(blobs[RECORDS], scope="reply")).request_id == f"r{RECORDS}"


async def test_plain_entries_still_make_room() -> None:
    cache = MemoryCache(max_keys=2)
    assert await cache.set_if_absent("marker", b"1", ttl_seconds=60)
    await cache.set("a", b"1")
    await cache.set("b", b"2")  # evicts "a", the oldest plain entry, never the marker
    assert (await cache.get("a"), await cache.get("b")) == (None, b"2")
    assert not await cache.set_if_absent("marker", b"2", ttl_seconds=60)


def test_the_minimum_envelope_is_49_bytes() -> None:
    minimum = FIXED.size + 2 * ID_LENGTH.size + TAG_BYTES
    assert minimum == 49
    blob = bytes([2]) + key_id(bytes.fromhex(KEY)) + bytes(minimum - 9)
    keys = {key_id(bytes.fromhex(KEY)): bytes.fromhex(KEY)}
    with pytest.raises(EnvelopeError, match="truncated"):
        open_envelope(keys, blob[:-1])
    with pytest.raises(EnvelopeError, match="failed authentication"):
        open_envelope(keys, blob)  # long enough: it reaches the tag check


def test_a_previous_key_is_refused_from_its_deadline_instant() -> None:
    deadline = datetime(2026, 6, 1, 12, tzinfo=UTC)
    ring = Keyring.from_hex(KEY, [OLD_KEY], deadline)
    old = key_id(bytes.fromhex(OLD_KEY))
    assert old in ring.opening_keys(deadline - timedelta(microseconds=1))
    assert old not in ring.opening_keys(deadline)
