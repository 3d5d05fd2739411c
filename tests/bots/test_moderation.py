"""Prompts posted in a Discord session channel pass the same prompt guard as the web's."""

from __future__ import annotations

from sqlalchemy import func, select

from meatlizard.admin.models import AppSetting
from meatlizard.admin.moderation import MODERATION_KEY
from meatlizard.chat.models import ChatMessage
from tests.bots.helpers import BotsWorld, start_session

REFUSAL = "That prompt was refused by this server's content rules."


async def test_a_prompt_breaking_the_admins_lists_is_refused_in_the_channel(
    bots_world: BotsWorld,
) -> None:
    world, emu = bots_world, bots_world.emulator
    channel = await start_session(world)
    async with world.services.sessions() as db:
        value = {"words": ["zorblax"], "patterns": [r"secret\s*plan\d+"]}
        db.add(AppSetting(key=MODERATION_KEY, value=value))
        await db.commit()

    def refusals() -> int:
        return sum(
            1
            for m in emu.history(channel)
            if m.author.id == world.server_app.id and m.content == REFUSAL
        )

    for count, prompt in enumerate(("tell me about ZORBLAX", "the Secret plan9 please"), 1):
        emu.post_message(channel, world.alice, prompt)
        await emu.wait_until(lambda count=count: refusals() == count)
    async with world.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ChatMessage)) == 0
