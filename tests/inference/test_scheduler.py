"""The fair scheduler: one slot, round-robin between owners, cancellation-safe."""

from __future__ import annotations

import asyncio

from meatlizard.inference.scheduler import FairScheduler


async def test_waiting_owners_are_served_round_robin() -> None:
    scheduler = FairScheduler()
    order: list[str] = []
    gate = asyncio.Event()

    async def job(owner: str, label: str) -> None:
        async with scheduler.slot(owner):
            order.append(label)
            await gate.wait()

    first = asyncio.create_task(job("hog", "hog-0"))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(job("hog", f"hog-{i}")) for i in range(1, 4)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(job("polite", "polite-1")))
    await asyncio.sleep(0)
    assert scheduler.queue_depth == 4
    gate.set()
    await asyncio.gather(first, *tasks)
    # The polite user waits behind one of the hog's queued jobs, not all three.
    assert order == ["hog-0", "hog-1", "polite-1", "hog-2", "hog-3"]
    assert not scheduler.busy


async def test_cancelled_waiter_does_not_block_the_queue() -> None:
    scheduler = FairScheduler()
    gate = asyncio.Event()
    done: list[str] = []

    async def job(owner: str) -> None:
        async with scheduler.slot(owner):
            await gate.wait()
            done.append(owner)

    holder = asyncio.create_task(job("a"))
    await asyncio.sleep(0)
    quitter = asyncio.create_task(job("b"))
    waiter = asyncio.create_task(job("c"))
    await asyncio.sleep(0)
    quitter.cancel()
    gate.set()
    await asyncio.gather(holder, waiter)
    assert done == ["a", "c"]
    assert scheduler.queue_depth == 0
    assert not scheduler.busy


async def test_several_slots_and_the_waiting_are_told_their_place() -> None:
    scheduler = FairScheduler(capacity=2)
    gates = {name: asyncio.Event() for name in ("a", "b", "c", "d")}
    places: dict[str, list[int]] = {name: [] for name in gates}
    running: list[str] = []
    started = {name: asyncio.Event() for name in gates}

    async def job(name: str) -> None:
        async def told(ahead: int) -> None:
            places[name].append(ahead)

        async with scheduler.slot(name, told):
            running.append(name)
            started[name].set()
            await gates[name].wait()

    tasks = []
    for name in gates:
        tasks.append(asyncio.create_task(job(name)))
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert running == ["a", "b"]  # two slots: two run at once
    assert places == {"a": [], "b": [], "c": [0], "d": [1]}
    assert scheduler.busy and scheduler.queue_depth == 2
    gates["a"].set()
    await asyncio.wait_for(started["c"].wait(), timeout=5)
    assert places["d"] == [1, 0]  # moved up the line when c left it
    for gate in gates.values():
        gate.set()
    await asyncio.gather(*tasks)
    assert running == ["a", "b", "c", "d"]
    assert scheduler.free == 2
