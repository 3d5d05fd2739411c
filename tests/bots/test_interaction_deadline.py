"""Discord's 3 s acknowledgement deadline, with a database slower than that."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from meatlizard.backups import service as backup_service
from meatlizard.bots.server import replies
from meatlizard.bots.server.admin_cog import BACKUP_STILL_RUNNING, AdminCog
from meatlizard.chat.models import ChatSession
from meatlizard.dev.discord_emulator.interactions import Interaction
from tests.bots.helpers import (
    ACK_DEADLINE_S,
    BotsWorld,
    end_prompt,
    general,
    run,
    slow_database,
    start_session,
)

LOG_WAIT_S = 30.0


class LogSignal(logging.Handler):
    """Sets an event when a record containing `needle` is logged."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.WARNING)
        self.needle, self.seen = needle, asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()


@pytest.fixture
def deadline_warnings() -> Iterator[LogSignal]:
    signal = LogSignal("was not acknowledged within Discord's deadline")
    logging.getLogger(replies.__name__).addHandler(signal)
    try:
        yield signal
    finally:
        logging.getLogger(replies.__name__).removeHandler(signal)


def interactions(world: BotsWorld) -> list[Interaction]:
    return list(world.emulator.core.interactions.by_id.values())


# Two tests, not one, and independent commands at once: each waits out the slow database.
async def test_chat_commands_answer_in_time_on_a_slow_database(bots_world: BotsWorld) -> None:
    world = bots_world
    assert world.emulator.core.interactions.ack_deadline_s == ACK_DEADLINE_S
    channel = await start_session(world)

    async def in_the_session() -> None:
        assert await run(world, world.alice, channel, "ai set-system", prompt="Be brief.") == (
            "System prompt set."
        )
        assert "0.5" in await run(world, world.alice, channel, "ai set-temp", temperature=0.5)
        prompt = await end_prompt(world, channel, world.alice)
        assert "Save a transcript" in prompt.content

    async def a_new_session() -> None:
        assert "ready in" in await run(world, world.alice, general(world), "ai start")

    with slow_database(world):
        await asyncio.gather(in_the_session(), a_new_session())
    assert all(record.refused == 0 for record in interactions(world))


async def test_admin_commands_answer_in_time_on_a_slow_database(bots_world: BotsWorld) -> None:
    world = bots_world
    assert world.emulator.core.interactions.ack_deadline_s == ACK_DEADLINE_S
    channel = await start_session(world)
    async with world.services.sessions() as db:
        session = await db.scalar(select(ChatSession))
        assert session is not None
    admin, here = world.admin, general(world)

    async def pause_and_resume() -> None:
        paused = await run(world, admin, here, "admin enable-requests", enabled=False)
        assert "paused" in paused
        resumed = await run(world, admin, here, "admin enable-requests", enabled=True)
        assert "accepted" in resumed

    async def metrics() -> None:
        assert "Uptime" in await run(world, admin, here, "admin metrics")

    async def transfer() -> None:
        assert "now belong to" in await run(
            world, admin, here, "admin transfer-session", session_id=session.id, user=world.bob.id
        )
        prompt = await end_prompt(world, channel, world.bob)  # bob owns the session now
        assert "Save a transcript" in prompt.content

    async def backup() -> None:
        assert (await run(world, admin, here, "admin backup")).startswith("Backup stored in the")

    with slow_database(world):
        await asyncio.gather(pause_and_resume(), metrics(), transfer(), backup())
    assert all(record.refused == 0 for record in interactions(world))


async def test_a_dead_interaction_is_not_answered_a_second_time(
    bots_world: BotsWorld, deadline_warnings: LogSignal
) -> None:
    world = bots_world
    channel = await start_session(world)
    world.emulator.core.interactions.ack_deadline_s = 0.0  # the bot's first answer comes too late
    late = world.emulator.invoke_command(
        world.server_app, world.alice, channel, "ai set-temp", temperature=1.0
    )
    await asyncio.wait_for(deadline_warnings.seen.wait(), LOG_WAIT_S)
    assert late.refused == 1 and not late.callbacks


async def test_a_long_backup_says_where_its_result_will_appear(
    bots_world: BotsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, emu = bots_world, bots_world.emulator
    release = asyncio.Event()
    real_backup = backup_service.create_backup

    async def held_backup(**kwargs):  # type: ignore[no-untyped-def]
        await release.wait()  # a backup that outlives the follow-up window
        return await real_backup(**kwargs)

    monkeypatch.setattr(backup_service, "create_backup", held_backup)
    cog = world.server.get_cog("AdminCog")
    assert isinstance(cog, AdminCog)
    cog.followup_window_s = 0.5  # the 14 minutes the bot allows itself, scaled down
    assert await run(world, world.admin, general(world), "admin backup") == BACKUP_STILL_RUNNING
    release.set()
    dm = emu.open_dm(world.admin, world.server_app)
    result = (await emu.wait_until(lambda: emu.history(dm)))[0].content
    assert result.startswith("Backup stored in the") and "backups/meatdb-" in result
    assert await world.services.storage.exists(result.split("`")[1])
