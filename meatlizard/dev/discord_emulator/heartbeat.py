"""The heartbeat watchdog: a gateway connection that stops heartbeating is closed, as on Discord.

Discord closes a connection whose client fails to send a HEARTBEAT in time and the client must
RESUME (Topics > Gateway, Sending Heartbeats). The close code is 4009 Session timed out, one a
client may reconnect after (Topics > Opcodes and Status Codes, Gateway Close Event Codes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

SESSION_TIMED_OUT = 4009
# Discord only says the interval already has tolerance for latency built in. Half an interval
# more models that, and still lets a client send its first heartbeat a full interval after
# HELLO (the documented jitter) and every interval after that.
HEARTBEAT_GRACE = 1.5


class HeartbeatWatchdog:
    """Runs `expire` once no HEARTBEAT came within interval * grace (counted from HELLO)."""

    def __init__(self, interval_s: float, expire: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.timeout_s = interval_s * HEARTBEAT_GRACE
        self._expire = expire
        self._loop = asyncio.get_running_loop()
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None
        self._arm(self._loop.time())

    def beat(self) -> bool:
        """Count a HEARTBEAT; return False for one that came too late to save the connection."""
        now = self._loop.time()
        # Late means the connection is already lost: it only looks alive when the event loop
        # was too busy to fire the timer on time (a test that stalls the loop, for one).
        if now > self._deadline:
            return False
        self._arm(now)
        return True

    def stop(self) -> None:
        """Stop watching (the connection ended); a close already under way is left to finish."""
        if self._timer is not None:
            self._timer.cancel()

    def _arm(self, now: float) -> None:
        self.stop()
        self._deadline = now + self.timeout_s
        self._timer = self._loop.call_at(self._deadline, self._fire)

    def _fire(self) -> None:
        self._closing = self._loop.create_task(self._expire())
