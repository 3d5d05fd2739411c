"""Session channels follow their sessions when they end or go outside Discord.

Web chats: a real `meatlizard serve` (INFERENCE=remote, PostgreSQL, Redis) and both bots
against the emulator. Discord chats: the start-up sweep, on both backends.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import httpx
import pytest
import websockets

from meatlizard.auth.models import User as UserRow
from meatlizard.bots.run import build_server_bot
from meatlizard.bots.server.bot import ServerBot
from meatlizard.bots.server.session_channels import ENDED_NOTICE, SessionChannelsCog
from meatlizard.chat.session_events import (
    NoSessionEvents,
    SessionChange,
    SessionEvent,
    session_events_for,
)
from meatlizard.dev.discord_emulator.models import Channel
from meatlizard.dev.discord_emulator.permissions import Permission
from meatlizard.relay.wire import PayloadSealer
from tests.bots.helpers import BotsWorld, general, start_session, the_session, wait_for
from tests.bots.relay_helpers import RelayWorld, close_services, session_channel
from tests.fixtures.discord import GUILD_READY_TIMEOUT_S, running
from tests.helpers import PASSWORD, bearer, collect_answer, create_session, socket_url, user_token

pytestmark = pytest.mark.model


async def web_user(world: RelayWorld, *, discord_id: int | None = None) -> tuple[str, int]:
    """Register a web user (linked to a Discord account if given); return token and id."""
    async with httpx.AsyncClient(base_url=world.web) as http:
        token = await user_token(http)
        me = (await http.get("/api/v1/auth/me", headers=bearer(token))).json()
    if discord_id is not None:
        async with world.server.services.sessions() as db:
            user = await db.get(UserRow, me["id"])
            assert user is not None
            user.discord_id = str(discord_id)
            await db.commit()
    return token, int(me["id"])


async def session_with_channel(world: RelayWorld, token: str, server: ServerBot) -> Channel:
    """Create a web session and its Discord channel, as its first relayed request does."""
    async with httpx.AsyncClient(base_url=world.web) as http:
        session = await create_session(http, token, temperature=0.0)
    created = await server.web_channels.channel_for(session["id"])
    return world.guild.channels[created.id]


def session_of(channel: Channel) -> str:
    assert channel.topic is not None
    return channel.topic.rsplit(" ", 1)[-1]


async def call(world: RelayWorld, method: str, path: str, token: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=world.web) as http:
        response = await http.request(method, path, headers=bearer(token), **kw)
    assert response.status_code < 300, response.text
    return response


def archived(channel: Channel) -> bool:
    return channel.name.startswith("archived-")


async def test_web_session_ended_on_the_web_archives_its_channel(relay_world: RelayWorld) -> None:
    world, emu = relay_world, relay_world.emulator
    token, _ = await web_user(world, discord_id=world.alice.id)
    async with httpx.AsyncClient(base_url=world.web) as http:
        session = await create_session(http, token, temperature=0.0)
    async with websockets.connect(
        socket_url(world.web, session["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"prompt": "Say hello."}))
        frames = await collect_answer(ws)
    assert frames[-1]["type"] == "done", frames[-1]
    channel = session_channel(world, session["id"])
    before = len(emu.history(channel))
    state = emu.core.state
    assert state.permissions(world.alice.id, channel) & Permission.SEND_MESSAGES

    path = f"/api/v1/chat/sessions/{session['id']}/end"
    await call(world, "POST", path, token, json={"save_transcript": True})
    await emu.wait_until(lambda: archived(channel))
    assert channel.name == f"archived-ai-web-{session['id'][:8]}"
    assert channel.id in world.guild.channels
    # Its owner may read the record but no longer write; the ciphertext audit trail stays.
    assert state.can_view(world.alice.id, channel)
    assert not state.permissions(world.alice.id, channel) & Permission.SEND_MESSAGES
    assert len(emu.history(channel)) == before  # nothing but ML1 frames in a web channel

    async def transcript_saved() -> bool:  # written by the web process in the background
        async with httpx.AsyncClient(base_url=world.web) as http:
            got = await http.get(
                f"/api/v1/chat/sessions/{session['id']}/transcript", headers=bearer(token)
            )
        return got.status_code == 200

    assert await wait_for(transcript_saved)


async def test_web_session_deleted_on_the_web_deletes_its_channel(relay_world: RelayWorld) -> None:
    world = relay_world
    token, _ = await web_user(world)
    channel_kept = await session_with_channel(world, token, world.server)
    channel_gone = await session_with_channel(world, token, world.server)
    await call(world, "DELETE", f"/api/v1/chat/sessions/{session_of(channel_gone)}", token)
    await world.emulator.wait_until(lambda: channel_gone.id not in world.guild.channels)
    assert channel_kept.id in world.guild.channels and not archived(channel_kept)


async def test_admin_ending_a_session_archives_its_channel(relay_world: RelayWorld) -> None:
    world = relay_world
    owner_token, _ = await web_user(world)
    channel = await session_with_channel(world, owner_token, world.server)
    admin_token, admin_id = await web_user(world)
    async with world.server.services.sessions() as db:
        admin = await db.get(UserRow, admin_id)
        assert admin is not None
        admin.is_admin = True
        await db.commit()
    await call(world, "POST", f"/api/v1/admin/sessions/{session_of(channel)}/end", admin_token)
    await world.emulator.wait_until(lambda: archived(channel))


async def test_deleting_the_account_deletes_its_session_channels(relay_world: RelayWorld) -> None:
    world = relay_world
    await web_user(world)  # the first account is the admin, which cannot leave alone
    token, _ = await web_user(world)
    channel = await session_with_channel(world, token, world.server)
    await call(world, "DELETE", "/api/v1/auth/me", token, json={"password": PASSWORD})
    await world.emulator.wait_until(lambda: channel.id not in world.guild.channels)


async def test_changes_made_while_the_server_bot_is_offline_are_done_on_its_return(
    relay_world: RelayWorld,
) -> None:
    world = relay_world
    token, _ = await web_user(world, discord_id=world.alice.id)
    ended = await session_with_channel(world, token, world.server)
    deleted = await session_with_channel(world, token, world.server)
    await world.server.close()
    await call(
        world,
        "POST",
        f"/api/v1/chat/sessions/{session_of(ended)}/end",
        token,
        json={"save_transcript": False},
    )
    await call(world, "DELETE", f"/api/v1/chat/sessions/{session_of(deleted)}", token)
    assert not archived(ended) and deleted.id in world.guild.channels  # nobody acted yet

    successor = build_server_bot(world.server.settings, guild_ready_timeout=GUILD_READY_TIMEOUT_S)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(close_services, successor)
        await successor.services.prepare()
        await stack.enter_async_context(running(successor, world.server_app.token))
        await world.emulator.wait_until(
            lambda: archived(ended) and deleted.id not in world.guild.channels
        )
    state = world.emulator.core.state
    assert state.can_view(world.alice.id, ended)
    assert not state.permissions(world.alice.id, ended) & Permission.SEND_MESSAGES


async def test_start_up_sweep_archives_discord_sessions_ended_elsewhere(
    bots_world: BotsWorld,
) -> None:
    """Without Redis (or with news lost) the next start archives what ended meanwhile."""
    world, emu = bots_world, bots_world.emulator
    channel = await start_session(world)
    await world.server.close()
    async with world.services.sessions() as db:  # e.g. ended on the web while nobody listened
        session = await the_session(world)
        row = await db.merge(session)
        row.ended_at = row.created_at
        await db.commit()

    successor = ServerBot(
        services=world.services,
        relay=world.relay,
        sealer=PayloadSealer.from_settings(world.services.settings, world.services.cache),
        guild_ready_timeout=GUILD_READY_TIMEOUT_S,
    )
    async with running(successor, world.server_app.token):
        await emu.wait_until(lambda: archived(channel))
        notices = [m.content for m in emu.history(channel) if m.author.id == world.server_app.id]
        assert ENDED_NOTICE in notices
        state = emu.core.state
        assert state.can_view(world.alice.id, channel)
        assert not state.permissions(world.alice.id, channel) & Permission.SEND_MESSAGES
        cog = successor.get_cog("SessionChannelsCog")
        assert isinstance(cog, SessionChannelsCog)
        assert await cog.sweep() == 0  # archived once, not again


async def test_news_naming_a_channel_that_is_not_the_sessions_changes_nothing(
    bots_world: BotsWorld,
) -> None:
    world = bots_world
    channel = await start_session(world)
    cog = world.server.get_cog("SessionChannelsCog")
    assert isinstance(cog, SessionChannelsCog)
    lobby = general(world)
    # A forged entry: no such session, someone else's channel.
    await cog.follow(SessionEvent(str(uuid.uuid4()), SessionChange.DELETED, lobby.id))
    # A real session that has not ended: stale news.
    await cog.follow(SessionEvent(session_of(channel), SessionChange.ENDED, channel.id))
    assert lobby.id in world.guild.channels
    assert channel.id in world.guild.channels and not archived(channel)

    async def still_there() -> bool:
        return (await the_session(world)).ended_at is None

    assert await wait_for(still_there)


def test_session_events_read_back_and_refuse_malformed_entries() -> None:
    event = SessionEvent("abc", SessionChange.ENDED, 42)
    fields = {k.encode(): v.encode() for k, v in event.fields().items()}
    assert SessionEvent.from_fields(fields) == event
    for broken in (
        {b"session_id": b"abc", b"change": b"exploded", b"channel_id": b"42"},
        {b"session_id": b"abc", b"change": b"ended", b"channel_id": b"not a number"},
        {b"change": b"ended", b"channel_id": b"42"},
    ):
        try:
            SessionEvent.from_fields(broken)
        except ValueError:
            continue
        raise AssertionError(f"accepted {broken!r}")
    assert isinstance(session_events_for(None), NoSessionEvents)  # embedded: nobody to tell
