"""Chat requests whose web process died: found, adopted by one other web process, finished.

The web process following a request records it (`in_flight_key`) with its own id; it marks
itself alive while it runs. A record whose owner is no longer alive is an orphan: the worker
goes on writing the answer into the reply stream, and the first web process to set the
`adopted` mark reads it to the end so the chat side can store it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meatlizard.relay import redis_keys as keys

if TYPE_CHECKING:
    import redis.asyncio as redis


@dataclass(frozen=True)
class Orphan:
    """A chat request nobody follows any more."""

    request_id: str
    session_id: str
    prompt_id: int
    alias: str
    entry_id: str

    def record(self, owner: str) -> dict[Any, str]:  # a Redis hash
        return {
            "owner": owner,
            "session_id": self.session_id,
            "prompt_id": str(self.prompt_id),
            "alias": self.alias,
            "entry_id": self.entry_id,
        }

    @classmethod
    def of(cls, request_id: str, record: dict[bytes, bytes]) -> Orphan | None:
        try:
            return cls(
                request_id,
                record[b"session_id"].decode(),
                int(record[b"prompt_id"]),
                record[b"alias"].decode(),
                record[b"entry_id"].decode(),
            )
        except (KeyError, ValueError):
            return None


async def note_in_flight(client: redis.Redis, orphan: Orphan, owner: str) -> None:
    """Record a request this process follows (forgotten by `done`, or after the reply TTL)."""
    key = keys.in_flight_key(orphan.request_id)
    async with client.pipeline(transaction=False) as pipe:  # one round trip per request
        pipe.hset(key, mapping=orphan.record(owner))
        pipe.expire(key, keys.REPLY_TTL_SECONDS)
        await pipe.execute()


async def done(client: redis.Redis, request_id: str) -> None:
    """Forget a request: its answer reached the chat side (or never will)."""
    await client.delete(keys.in_flight_key(request_id))


async def adopt_orphans(client: redis.Redis, adopter: str) -> list[Orphan]:
    """Return the requests whose web process died that this process now owns."""
    adopted: list[Orphan] = []
    async for key in client.scan_iter(match=keys.IN_FLIGHT_PREFIX + "*", count=100):
        record: Any = await client.hgetall(key)
        owner = record.get(b"owner", b"").decode()
        if not owner or owner == adopter or await client.exists(keys.web_key(owner)):
            continue
        request_id = key.decode().removeprefix(keys.IN_FLIGHT_PREFIX)
        orphan = Orphan.of(request_id, record)
        if orphan is None:
            await client.delete(key)
            continue
        mark = keys.adopted_key(request_id)
        if await client.set(mark, adopter, nx=True, ex=keys.REPLY_TTL_SECONDS):
            await client.hset(key, "owner", adopter)  # ours now; the mark keeps others off
            adopted.append(orphan)
    return adopted
