"""Stopping background tasks within a bound, whatever the code inside them does."""

from __future__ import annotations

import asyncio

from meatlizard.core.tasks import being_cancelled, cancel_and_wait, wait_event


async def test_a_task_that_stops_is_waited_for() -> None:
    started = asyncio.Event()

    async def sleeper() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(sleeper())
    await started.wait()
    assert await cancel_and_wait(task) is True
    assert task.cancelled()


async def test_a_task_that_swallows_its_cancellation_is_left_after_the_bound() -> None:
    started, let_go = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await let_go.wait()  # as a library that catches it mid-read and reads again

    task = asyncio.create_task(stubborn())
    await started.wait()
    assert await cancel_and_wait(task, within=0.05) is False
    assert not task.done()
    let_go.set()
    await task


async def test_a_retry_loop_sees_a_cancellation_turned_into_an_error() -> None:
    started = asyncio.Event()
    rounds = 0

    async def retrying() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            try:
                try:
                    started.set()
                    await asyncio.Event().wait()
                except asyncio.CancelledError as exc:
                    raise ConnectionError("read interrupted") from exc  # a library's doing
            except ConnectionError:
                if being_cancelled():
                    raise asyncio.CancelledError from None
                await asyncio.sleep(0)

    task = asyncio.create_task(retrying())
    await started.wait()
    assert await cancel_and_wait(task) is True
    assert rounds == 1
    assert not being_cancelled()  # the test's own task was not asked to stop


async def test_wait_event_tells_a_set_event_from_the_time_running_out() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 60.0) is True


async def test_a_loop_waiting_on_an_event_stops_when_cancelled_as_the_event_is_set() -> None:
    event, turns = asyncio.Event(), 0

    async def loop() -> None:
        nonlocal turns
        while True:
            await wait_event(event, 60.0)
            event.clear()
            turns += 1

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    event.set()
    await asyncio.sleep(0)  # the event's waiter wakes; the cancel comes in the same turn
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5.0)
    assert done and task.cancelled(), f"the loop went on after its cancel ({turns} turns)"
