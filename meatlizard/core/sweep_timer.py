"""A timer on the running event loop that sweeps again and again while anything is left."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SweepTimer:
    """Runs `sweep` `seconds` after `schedule()`, and again while `sweep` returns True."""

    def __init__(self, seconds: float, sweep: Callable[[], bool]) -> None:
        self._seconds = seconds
        self._sweep = sweep
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def schedule(self) -> None:
        """Make sure a sweep is due on the running loop (no-op outside one, or when due)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._timer is not None and self._loop is loop:
            return
        self._loop = loop  # a timer left on a closed loop (a test's) never fires: replace it
        self._timer = loop.call_later(self._seconds, self._fire)

    def cancel(self) -> None:
        """Drop the sweep that is due, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        if self._sweep():
            self.schedule()
