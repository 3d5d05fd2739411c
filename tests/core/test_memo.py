"""The memo of decoded cached entries: bounded in bytes and entries, emptied by time."""

from __future__ import annotations

import asyncio

from meatlizard.core.memo import DecodedMemo
from tests.helpers import ManualClock


def test_the_oldest_entries_make_room_for_bytes_and_count() -> None:
    memo = DecodedMemo[str](max_bytes=100, max_entries=3, keep_seconds=60)
    for i in range(3):
        memo.put(b"k%d" % i, f"v{i}", 30)
    assert memo.used_bytes == 90
    memo.put(b"k3", "v3", 30)  # the fourth entry: the first goes
    assert b"k0" not in memo and len(memo) == 3
    memo.put(b"big", "v", 70)  # 70 bytes: the two oldest go
    assert b"k1" not in memo and b"k2" not in memo
    assert memo.get(b"k3") == "v3" and memo.get(b"big") == "v"
    assert memo.used_bytes == 100


def test_entries_go_after_their_time() -> None:
    clock = ManualClock(1000.0)
    memo = DecodedMemo[str](max_bytes=1000, keep_seconds=60, clock=clock)
    memo.put(b"a", "old", 10)
    clock.now += 30
    memo.put(b"b", "newer", 10)
    clock.now += 31  # a is 61 s old, b 31 s
    assert memo.sweep() == 1
    assert b"a" not in memo and memo.get(b"b") == "newer"
    assert memo.used_bytes == 10
    clock.now += 30
    memo.put(b"c", "newest", 10)  # a put drops what has had its time, too
    assert b"b" not in memo and memo.used_bytes == 10


def test_the_same_bytes_stored_again_are_counted_once() -> None:
    memo = DecodedMemo[str](max_bytes=1000, keep_seconds=60)
    memo.put(b"a", "one", 10)
    memo.put(b"a", "two", 12)
    assert memo.get(b"a") == "two" and memo.used_bytes == 12 and len(memo) == 1


async def test_a_timer_empties_the_memo_when_reads_stop() -> None:
    # Nobody reads or writes after the load: the memory must return all the same.
    clock = ManualClock(1000.0)
    memo = DecodedMemo[str](max_bytes=1000, keep_seconds=60, sweep_seconds=0.01, clock=clock)
    memo.put(b"a", "x", 10)
    clock.now += 61
    # Timers fire in deadline order, so the sweep (due at +0.01 s) has run when this wakes.
    await asyncio.sleep(0.02)
    assert len(memo) == 0 and memo.used_bytes == 0
