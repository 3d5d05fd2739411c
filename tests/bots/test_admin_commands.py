"""/admin commands for the admin role; everyone else gets an ephemeral refusal."""

from __future__ import annotations

from sqlalchemy import select

from meatlizard.admin import service as admin_service
from meatlizard.bots.server.admin_cog import NOT_ADMIN
from meatlizard.chat.models import ChatSession
from meatlizard.relay.models import WorkerMetric
from tests.bots.helpers import BotsWorld, general, run, start_session, wait_for


async def test_every_admin_command_refuses_non_admins(bots_world: BotsWorld) -> None:
    world = bots_world
    for command, options in [
        ("admin enable-requests", {"enabled": False}),
        ("admin metrics", {}),
        ("admin backup", {}),
        ("admin transfer-session", {"session_id": "x", "user": world.bob.id}),
    ]:
        assert await run(world, world.alice, general(world), command, **options) == NOT_ADMIN
    async with world.services.sessions() as db:
        assert await admin_service.requests_enabled(db)


async def test_enable_requests_is_obeyed_by_ai_start(bots_world: BotsWorld) -> None:
    world = bots_world
    text = await run(world, world.admin, general(world), "admin enable-requests", enabled=False)
    assert "paused" in text
    async with world.services.sessions() as db:
        assert not await admin_service.requests_enabled(db)
    refused = await run(world, world.alice, general(world), "ai start")
    assert "paused" in refused
    assert not any(
        (c.topic or "").startswith("MeatLizard chat") for c in world.guild.channels.values()
    )
    assert "accepted" in await run(
        world, world.admin, general(world), "admin enable-requests", enabled=True
    )
    await start_session(world)


async def test_metrics_and_backup(bots_world: BotsWorld) -> None:
    world = bots_world

    async def stored() -> WorkerMetric | None:
        async with world.services.sessions() as db:
            return await db.scalar(select(WorkerMetric))

    await wait_for(stored)
    text = await run(world, world.admin, general(world), "admin metrics")
    assert "Worker online:** yes" in text and "tokens/s" in text and "Uptime" in text
    assert "Queue depth:** 0" in text
    text = await run(world, world.admin, general(world), "admin backup")
    assert text.startswith("Backup stored in the") and "backups/meatdb-" in text
    key = text.split("`")[1]
    assert await world.services.storage.exists(key)


async def test_transfer_session_moves_the_channel_permissions(bots_world: BotsWorld) -> None:
    world = bots_world
    channel = await start_session(world)
    async with world.services.sessions() as db:
        session = await db.scalar(select(ChatSession))
        assert session is not None
    text = await run(
        world,
        world.admin,
        general(world),
        "admin transfer-session",
        session_id=session.id,
        user=world.bob.id,
    )
    assert "now belong to" in text
    state = world.emulator.core.state
    assert state.can_view(world.bob.id, channel)
    assert not state.can_view(world.alice.id, channel)
    async with world.services.sessions() as db:
        moved = await db.get(ChatSession, session.id)
        assert moved is not None and moved.user_id != session.user_id
