"""Discord's 500 channels per guild: a full guild gets a clear answer, not a generic error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meatlizard.bots.server.channels import CHANNEL_LIMIT_ADMINS, CHANNEL_LIMIT_USER
from meatlizard.chat.models import ChatSession
from meatlizard.dev.discord_emulator.rest_channels import MAX_GUILD_CHANNELS
from tests.bots.helpers import BotsWorld, general, run

# The bots hold the model but no test here asks it for an answer (tests/conftest.py).
pytestmark = pytest.mark.no_answers


async def test_a_full_guild_tells_the_user_and_the_admins(bots_world: BotsWorld) -> None:
    world, emu = bots_world, bots_world.emulator
    while (
        len(world.guild.channels) < MAX_GUILD_CHANNELS
    ):  # Discord's maximum, reached by an old server
        emu.create_channel(world.guild, f"old-{len(world.guild.channels)}")
    text = await run(world, world.alice, general(world), "ai start")
    assert text == CHANNEL_LIMIT_USER
    metrics = next(c for c in world.guild.channels.values() if c.name == "ai-metrics")
    notice = await emu.wait_until(
        lambda: [m for m in emu.history(metrics) if CHANNEL_LIMIT_ADMINS in m.content]
    )
    assert f"<@&{world.admin_role.id}>" in notice[0].content
    async with world.services.sessions() as db:
        assert await db.scalar(select(ChatSession)) is None  # no session without its channel
