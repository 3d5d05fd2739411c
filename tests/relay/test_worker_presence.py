"""A worker is advertised the moment it can answer, and withdrawn the moment it cannot."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import redis.asyncio as redis

from meatlizard.core.cache import MemoryCache
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.envelope import Keyring
from meatlizard.relay.redis_worker import StreamWorker
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import ClientMetricsPayload, GpuStats, PayloadSealer
from tests.fixtures.cluster import KEY
from tests.helpers import until

# Far longer than the test may wait: only the change itself can make the worker show.
SLOW_HEARTBEAT_S = 3600.0
WAIT_S = 20.0
POLL_S = 0.05


class SwitchedWorker(StreamWorker):
    """A worker whose availability the test switches (like the relay when the client-bot
    comes online over Discord)."""

    up = False

    @property
    def aliases(self) -> list[str]:
        return ["smollm2"]

    def available(self) -> bool:
        return self.up

    async def metrics(self) -> ClientMetricsPayload:
        return ClientMetricsPayload(
            timestamp=0.0, gpu_stats=GpuStats(), tokens_per_second=0.0, is_online=True
        )


async def shown(client: redis.Redis, worker_id: str, expected: bool) -> None:
    """Wait (bounded) until the presence key is there or gone; a key has no event to await."""

    async def as_expected() -> bool:
        return bool(await client.exists(keys.worker_key(worker_id))) == expected

    state = "advertised" if expected else "withdrawn"
    await until(as_expected, f"{worker_id} {state}", within=WAIT_S, every=POLL_S)


async def test_a_worker_is_advertised_and_withdrawn_as_soon_as_it_changes(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "HEARTBEAT_SECONDS", SLOW_HEARTBEAT_S)
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(MemoryCache(), window_seconds=300))
    worker = SwitchedWorker(redis_url=redis_url, sealer=sealer, worker_id="switched")
    client = redis.Redis.from_url(redis_url)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0)
        assert not await client.exists(keys.worker_key("switched"))
        worker.up = True
        worker.availability_changed()
        await shown(client, "switched", True)
        worker.up = False
        worker.availability_changed()
        await shown(client, "switched", False)
    finally:
        worker.stop()
        await asyncio.wait_for(running, WAIT_S)
        await client.flushdb()
        await client.aclose()


@pytest.mark.parametrize("when", ["as the change comes", "as the heartbeat falls due"])
async def test_a_worker_stops_even_when_its_presence_changes_at_that_moment(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # On the way out the client-bot says it is offline and the server-bot stops its worker at
    # once; a heartbeat that swallowed that cancel kept the worker (and its shutdown) alive.
    monkeypatch.setattr(keys, "HEARTBEAT_SECONDS", 0.0 if when != "as the change comes" else 60.0)
    sealer = PayloadSealer(Keyring.from_hex(KEY), ReplayGuard(MemoryCache(), window_seconds=300))
    worker = SwitchedWorker(redis_url=redis_url, sealer=sealer, worker_id="leaving")
    worker.up = True
    client = redis.Redis.from_url(redis_url)
    running = asyncio.create_task(worker.run())
    try:
        await shown(client, "leaving", True)
        for _ in range(50):  # many chances to land the cancel where the event wakes the loop
            worker.availability_changed()
            await asyncio.sleep(0)
        worker.stop()
        running.cancel()  # as ServerBot.close() does
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running, WAIT_S)
    finally:
        await client.flushdb()
        await client.aclose()
