"""One generation at a time per model, shared round-robin between users."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FairScheduler:
    """Grants a single slot; waiting users are served in turn so nobody starves the rest."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def queue_depth(self) -> int:
        """Return how many requests are waiting for the slot."""
        return sum(len(q) for q in self._waiting.values())

    @property
    def busy(self) -> bool:
        return self._busy

    @asynccontextmanager
    async def slot(self, owner: str) -> AsyncIterator[None]:
        """Wait for this owner's turn, hold the slot for the block, then pass it on."""
        if not self._busy and not self._waiting:
            self._busy = True
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(owner, deque()).append(future)
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # we were granted the slot just as we were cancelled
                else:
                    self._forget(owner, future)
                raise
        try:
            yield
        finally:
            self._release()

    def _forget(self, owner: str, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(owner)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[owner]

    def _release(self) -> None:
        while self._waiting:
            owner, queue = next(iter(self._waiting.items()))
            future = queue.popleft()
            if queue:
                self._waiting.move_to_end(owner)  # round-robin: this owner goes to the back
            else:
                del self._waiting[owner]
            if not future.done():
                future.set_result(None)
                return
        self._busy = False
