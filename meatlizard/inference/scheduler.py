"""A model's parallel slots, shared round-robin between users; the waiting know their place."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

# Told how many requests are ahead of a waiting one (0: it is next), each time that changes.
QueueListener = Callable[[int], Awaitable[None]]


class _Waiter:
    def __init__(self) -> None:
        self.granted = False
        self.moved = asyncio.Event()  # set when granted or when the line ahead got shorter


class FairScheduler:
    """Grants up to `capacity` slots; waiting users are served in turn so nobody starves others.

    Each user's own requests wait first come, first served; between users the next free slot
    goes round-robin, so one user's burst cannot push everybody else back.
    """

    def __init__(self, capacity: int = 1) -> None:
        self.capacity = capacity
        self._running = 0
        self._waiting: OrderedDict[str, deque[_Waiter]] = OrderedDict()

    @property
    def queue_depth(self) -> int:
        """Return how many requests are waiting for a slot."""
        return sum(len(q) for q in self._waiting.values())

    @property
    def busy(self) -> bool:
        """Say whether every slot is taken."""
        return self._running >= self.capacity

    @property
    def free(self) -> int:
        """Return how many slots are free now."""
        return max(self.capacity - self._running, 0)

    def position(self, waiter: _Waiter) -> int:
        """Return how many waiting requests will be served before this one."""
        lines = [list(q) for q in self._waiting.values()]
        ahead = 0
        while any(lines):
            for line in lines:
                if line:
                    if line.pop(0) is waiter:
                        return ahead
                    ahead += 1
        return ahead

    @asynccontextmanager
    async def slot(self, owner: str, on_queued: QueueListener | None = None) -> AsyncIterator[None]:
        """Wait for a slot (telling `on_queued` the place in line), hold it for the block."""
        if self._running < self.capacity and not self._waiting:
            self._running += 1
        else:
            await self._wait(owner, on_queued)
        try:
            yield
        finally:
            self._release()

    async def _wait(self, owner: str, on_queued: QueueListener | None) -> None:
        waiter = _Waiter()
        self._waiting.setdefault(owner, deque()).append(waiter)
        told: int | None = None
        try:
            while not waiter.granted:
                place = self.position(waiter)
                if on_queued is not None and place != told:
                    told = place
                    await on_queued(place)
                    continue  # the line may have moved meanwhile
                waiter.moved.clear()
                await waiter.moved.wait()
        except BaseException:
            if waiter.granted:
                self._release()  # granted just as we gave up: pass the slot on
            else:
                self._forget(owner, waiter)
            raise

    def _forget(self, owner: str, waiter: _Waiter) -> None:
        line = self._waiting.get(owner)
        if line is not None and waiter in line:
            line.remove(waiter)
            if not line:
                del self._waiting[owner]
        self._tell_waiting()

    def _release(self) -> None:
        """Hand the freed slot to the next waiter in round-robin order, or mark it free."""
        if self._waiting:
            owner, line = next(iter(self._waiting.items()))
            waiter = line.popleft()
            if line:
                self._waiting.move_to_end(owner)  # round-robin: this owner goes to the back
            else:
                del self._waiting[owner]
            waiter.granted = True  # the slot passes straight on: the running count stays
            waiter.moved.set()
        else:
            self._running -= 1
        self._tell_waiting()

    def _tell_waiting(self) -> None:
        for line in self._waiting.values():
            for waiter in line:
                waiter.moved.set()
