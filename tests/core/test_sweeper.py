"""The shared sweep loop: a failing sweep is logged and retried, stop ends the loop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from meatlizard.core.sweeper import Sweeper

HANG_GUARD_SECONDS = 30


class FlakySweeper(Sweeper):
    name = "flaky-sweeper"
    swept_what = "things"

    def __init__(self) -> None:
        super().__init__(interval_seconds=0)
        self.calls = 0
        self.recovered = asyncio.Event()

    async def sweep_once(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database unavailable")
        self.recovered.set()
        return 3


async def test_a_failed_sweep_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="meatlizard.core.sweeper")
    sweeper = FlakySweeper()
    sweeper.start()
    await asyncio.wait_for(sweeper.recovered.wait(), HANG_GUARD_SECONDS)
    await sweeper.stop()
    assert "flaky-sweeper: sweep failed" in caplog.text
    assert "flaky-sweeper: swept 3 things" in caplog.text
    calls = sweeper.calls
    await asyncio.sleep(0)
    assert sweeper.calls == calls  # stopped: no sweep after stop()


async def test_stop_before_start_is_harmless() -> None:
    await FlakySweeper().stop()
