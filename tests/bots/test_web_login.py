"""A Discord user who chatted via /ai start logs in on the web with Discord and finds the chat."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from meatlizard.app import create_app
from meatlizard.auth.models import User
from meatlizard.runtime import Services
from tests.auth.discord_helpers import discord_login, free_port, login_app, oauth_settings, serving
from tests.bots.helpers import BotsWorld, answered, start_session, the_session
from tests.fixtures.backends import Backend, make_settings


async def test_discord_chats_show_on_the_web_after_logging_in_with_discord(
    bots_world: BotsWorld, backend: Backend, tmp_path: Path
) -> None:
    world = bots_world
    channel = await start_session(world)
    answer = await answered(world, channel, "Hello from Discord.")
    session = await the_session(world)

    # The web site is another process on the same database, storage and cache.
    port = free_port()
    app_id = login_app(world.emulator, port)
    settings = make_settings(backend, tmp_path, **oauth_settings(world.emulator, app_id, port))
    web = Services.build(settings)
    await web.prepare()
    try:
        async with (
            serving(create_app(settings, services=web), port) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as browser,
        ):
            page = await discord_login(browser, world.emulator, world.alice)
            assert page.url.path == "/chat"
            assert f'href="/chat/{session.id}"' in page.text and session.title in page.text
            opened = await browser.get(f"/chat/{session.id}")
            assert opened.status_code == 200 and "Hello from Discord." in opened.text
            listed = (await browser.get("/api/v1/chat/sessions")).json()
            assert [s["id"] for s in listed] == [session.id]
        async with web.sessions() as db:
            assert await db.scalar(select(func.count()).select_from(User)) == 1
            user = await db.get(User, session.user_id)
            assert user is not None and user.discord_id == str(world.alice.id)
        assert answer.content
    finally:
        await web.inference.close()
        await web.cache.close()
        await web.storage.close()
        await web.engine.dispose()
