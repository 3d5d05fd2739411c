"""/ai set-system, set-temp, end with a saved transcript, and gdpr-anonymize, end to end."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from meatlizard.auth.models import User
from meatlizard.bots.server.ai_cog import NOT_A_SESSION
from meatlizard.dev.discord_emulator.permissions import Permission
from meatlizard.transcripts.models import Transcript
from tests.bots.helpers import (
    BotsWorld,
    answered,
    end_prompt,
    general,
    run,
    start_session,
    the_session,
)
from tests.gdpr.helpers import dump_everything

TRANSCRIPT_KEYS = [
    "session_id",
    "user_id",
    "username",
    "discord_channel_id",
    "start_time_utc",
    "end_time_utc",
    "system_prompt",
    "model_parameters_used",
    "message_count",
    "messages",
    "other_versions",  # earlier answers and edited-away prompts, beside the shown branch
]


async def test_set_system_and_set_temp_change_the_session(bots_world: BotsWorld) -> None:
    world = bots_world
    channel = await start_session(world)
    text = await run(world, world.alice, channel, "ai set-system", prompt="Answer like a pirate.")
    assert text == "System prompt set."
    assert await run(world, world.alice, channel, "ai set-temp", temperature=1.25) == (
        "Temperature set to 1.25."
    )
    session = await the_session(world)
    assert session.system_prompt == "Answer like a pirate." and session.temperature == 1.25

    bad = await run(world, world.alice, channel, "ai set-temp", temperature=5)
    assert bad == "temperature must be between 0 and 2 (got 5)"
    elsewhere = await run(world, world.alice, general(world), "ai set-temp", temperature=0.5)
    assert elsewhere == NOT_A_SESSION
    session = await the_session(world)
    assert session.temperature == 1.25  # neither refused change was applied


async def test_end_with_save_writes_the_transcript_and_archives_the_channel(
    bots_world: BotsWorld,
) -> None:
    world, emu = bots_world, bots_world.emulator
    channel = await start_session(world)
    answer = await answered(world, channel, "Say hello.")

    emu.click_button(world.server_app, world.alice, await end_prompt(world, channel), "save")
    session = await the_session(world)
    transcripts = next(c for c in world.guild.channels.values() if c.name == "ai-transcripts")

    def announced():  # type: ignore[no-untyped-def]
        return [m for m in emu.history(transcripts) if session.id in m.content]

    posted = (await emu.wait_until(announced))[0].content
    async with world.services.sessions() as db:
        record = await db.scalar(select(Transcript))
        user = await db.get(User, session.user_id)
    assert record is not None and user is not None
    assert f"<@{world.alice.id}>" in posted and user.username in posted
    assert f"transcripts/{session.id}/" in posted and record.json_key in posted

    data = json.loads(await world.services.storage.get_bytes(record.json_key))
    assert list(data) == TRANSCRIPT_KEYS
    assert data["discord_channel_id"] == str(channel.id)
    assert data["session_id"] == session.id and data["username"] == user.username
    assert data["message_count"] == 2 and data["end_time_utc"].endswith("Z")
    assert list(data["model_parameters_used"]) == ["model_alias", "temperature"]
    assert [list(m) for m in data["messages"]] == [
        ["message_id", "timestamp_utc", "sender", "content"]
    ] * 2
    assert data["messages"][0]["content"] == "Say hello."
    assert data["messages"][1]["content"] == answer.content
    rows = list(
        csv.reader(io.StringIO((await world.services.storage.get_bytes(record.csv_key)).decode()))
    )
    assert rows[0][0].lstrip("\ufeff") == "timestamp_utc" and rows[0][1:] == ["sender", "content"]
    assert len(rows) == 3

    dm = emu.open_dm(world.alice, world.server_app)
    note = (await emu.wait_until(lambda: emu.history(dm)))[0].content
    if world.services.settings.s3_bucket_name:
        assert "link valid 24 h" in note and "X-Amz-Signature" in note
    else:
        assert f"/api/v1/chat/sessions/{session.id}/transcript?format=json" in note

    def archived() -> bool:
        return channel.name.startswith("archived-")

    await emu.wait_until(archived)
    state = emu.core.state
    assert state.can_view(world.alice.id, channel)
    assert not state.permissions(world.alice.id, channel) & Permission.SEND_MESSAGES
    assert (await the_session(world)).ended_at is not None


async def test_only_the_owner_may_end_a_session(bots_world: BotsWorld) -> None:
    world = bots_world
    channel = await start_session(world)
    refused = await run(world, world.admin, channel, "ai end")
    assert "Save a transcript" not in refused
    assert refused == "no such chat session"
    session = await the_session(world)
    assert session.ended_at is None and channel.id in world.guild.channels


async def test_gdpr_anonymize_removes_the_discord_identity(bots_world: BotsWorld) -> None:
    world = bots_world
    channel = await start_session(world)
    await answered(world, channel, "Remember me.")
    discord_id = str(world.alice.id)
    assert discord_id in await dump_everything(world.services)

    text = await run(world, world.alice, channel, "ai gdpr-anonymize")
    assert text.startswith("Done: you are now `anon-") and "Discord link removed" in text
    assert discord_id not in await dump_everything(world.services)
    async with world.services.sessions() as db:
        user = await db.get(User, (await the_session(world)).user_id)
        assert user is not None and user.discord_id is None
        assert user.username.startswith("anon-")
