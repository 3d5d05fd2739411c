"""Where a request waiting in the stream stands: how many undelivered requests are before it."""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis

from meatlizard.relay import redis_keys as keys


async def place_in_line(client: redis.Redis, entry_id: Any) -> int | None:
    """Return how many requests the workers get before this entry; None once one has it."""
    groups: Any = await client.xinfo_groups(keys.REQUESTS_STREAM)
    group = next(
        (g for g in groups if g["name"] in (keys.WORKER_GROUP, keys.WORKER_GROUP.encode())), None
    )
    if group is None:
        return None
    last, mine = stream_id(group["last-delivered-id"]), stream_id(entry_id)
    if last >= mine:
        return None  # a worker has it; its claim is on the way
    waiting: Any = await client.xrange(
        keys.REQUESTS_STREAM, f"({last[0]}-{last[1]}", f"({mine[0]}-{mine[1]}"
    )
    return len(waiting or [])


def stream_id(entry_id: Any) -> tuple[int, int]:
    """Return a stream entry id ("1700000000000-3", str or bytes) as a comparable pair."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    millis, _, sequence = text.partition("-")
    return int(millis), int(sequence or 0)
