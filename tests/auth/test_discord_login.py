"""Log in with Discord against the emulator's real OAuth2 endpoints: sign-up, link, unlink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import func, select

from meatlizard.auth.models import User
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.models import Application
from meatlizard.runtime import Services
from tests.auth.discord_helpers import (
    CALLBACK,
    csrf,
    discord_login,
    free_port,
    login_app,
    oauth_settings,
    serving,
)
from tests.helpers import PASSWORD, login, register


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
def oauth_app(discord_emulator: DiscordEmulator, web_port: int) -> Application:
    return login_app(discord_emulator, web_port)


@pytest.fixture
def settings_overrides(
    discord_emulator: DiscordEmulator, oauth_app: Application, web_port: int
) -> dict[str, object]:
    return oauth_settings(discord_emulator, oauth_app, web_port)


@pytest_asyncio.fixture
async def live_server(app: FastAPI, web_port: int) -> AsyncIterator[str]:
    async with serving(app, web_port) as url:
        yield url


async def account(services: Services, **where: object) -> User | None:
    async with services.sessions() as db:
        return await db.scalar(select(User).filter_by(**where))


async def me(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def user_count(services: Services) -> int:
    async with services.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def test_new_discord_user_gets_an_account_and_returning_user_the_same_one(
    client: httpx.AsyncClient,
    live_server: str,
    services: Services,
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    page = await client.get("/login")
    assert 'id="discord-login"' in page.text and "Log in with Discord" in page.text
    assert "Log in with Discord" in (await client.get("/register")).text
    alice = emu.create_user("alice")

    landed = await discord_login(client, emu, alice)
    assert landed.status_code == 200 and landed.url.path == "/chat"
    to_discord, from_discord = landed.history[0], landed.history[1]
    query = parse_qs(urlsplit(to_discord.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["identify"]
    assert from_discord.url.path == "/api/v10/oauth2/authorize"
    assert "ml_discord_state" not in client.cookies  # used up
    first = await me(client)
    assert first["username"] == "alice"
    created = await account(services, discord_id=str(alice.id))
    assert created is not None and created.username == "alice" and created.password_hash == ""

    async with httpx.AsyncClient(base_url=live_server) as again:
        await discord_login(again, emu, alice)
        assert (await me(again))["id"] == first["id"]
    assert await user_count(services) == 1
    # Discord gave the token back once it had served: nothing stays authorised.
    assert not emu.core.access_tokens


async def test_discord_name_taken_on_the_web_gets_a_unique_username(
    client: httpx.AsyncClient,
    live_server: str,
    services: Services,
    discord_emulator: DiscordEmulator,
) -> None:
    await register(client, "alice")
    emu = discord_emulator
    alice = emu.create_user("alice")
    async with httpx.AsyncClient(base_url=live_server) as browser:
        await discord_login(browser, emu, alice)
        name = str((await me(browser))["username"])
    assert name.startswith("alice-") and name != "alice"
    web_alice = await account(services, username_key="alice")
    assert web_alice is not None and web_alice.discord_id is None


async def test_link_from_account_then_log_in_with_discord_and_unlink(
    client: httpx.AsyncClient,
    live_server: str,
    services: Services,
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    name = await register(client)
    await login(client, name)  # the API login also sets the session cookie
    page = await client.get("/account")
    assert 'id="discord-link"' in page.text
    bob = emu.create_user("bob")
    emu.authorize_as(bob)
    linked = await client.post(
        "/account/discord/link", data={"csrf_token": await csrf(client)}, follow_redirects=True
    )
    assert linked.url.path == "/account" and "Discord account linked" in linked.text
    user = await account(services, username_key=name.lower())
    assert user is not None and user.discord_id == str(bob.id)

    async with httpx.AsyncClient(base_url=live_server) as other:
        await discord_login(other, emu, bob)
        assert (await me(other))["username"] == name
    assert await user_count(services) == 1

    unlinked = await client.post(
        "/account/discord/unlink", data={"csrf_token": await csrf(client)}, follow_redirects=True
    )
    assert "Discord account unlinked" in unlinked.text
    user = await account(services, username_key=name.lower())
    assert user is not None and user.discord_id is None


async def test_link_without_csrf_token_is_refused(
    client: httpx.AsyncClient, services: Services, discord_emulator: DiscordEmulator
) -> None:
    name = await register(client)
    await login(client, name)
    await client.get("/account")
    discord_emulator.authorize_as(discord_emulator.create_user("carol"))
    refused = await client.post("/account/discord/link", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    user = await account(services, username_key=name.lower())
    assert user is not None and user.discord_id is None


async def test_linking_a_discord_account_that_another_account_has_is_refused(
    client: httpx.AsyncClient,
    live_server: str,
    services: Services,
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    dave = emu.create_user("dave")
    async with httpx.AsyncClient(base_url=live_server) as first:
        await discord_login(first, emu, dave)
    name = await register(client)
    await login(client, name)
    emu.authorize_as(dave)
    refused = await client.post(
        "/account/discord/link", data={"csrf_token": await csrf(client)}, follow_redirects=True
    )
    assert refused.status_code == 409
    assert "already linked to another MeatLizard account" in refused.text
    assert 'class="alert"' in refused.text and "<html" in refused.text
    user = await account(services, username_key=name.lower())
    assert user is not None and user.discord_id is None
    owner = await account(services, discord_id=str(dave.id))
    assert owner is not None and owner.username == "dave"


async def test_bad_or_reused_state_is_refused_with_a_page(
    client: httpx.AsyncClient,
    live_server: str,
    services: Services,
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    forged = await client.get(f"{CALLBACK}?code=abc&state=forged")
    assert forged.status_code == 400 and "not started in this browser" in forged.text

    erin = emu.create_user("erin")
    emu.authorize_as(erin)
    start = await client.get("/auth/discord/login")
    to_discord = await client.get(start.headers["location"])
    callback = to_discord.headers["location"]
    async with httpx.AsyncClient(base_url=live_server) as attacker:  # another browser
        stolen = await attacker.get(callback)
        assert stolen.status_code == 400 and "not started in this browser" in stolen.text
    assert await user_count(services) == 0

    done = await client.get(callback)
    assert done.status_code == 303 and done.headers["location"] == "/chat"
    replay_state = parse_qs(urlsplit(callback).query)["state"][0]
    client.cookies.set("ml_discord_state", replay_state, path=CALLBACK)
    replayed = await client.get(callback)
    assert replayed.status_code == 400 and "already used" in replayed.text


async def test_denied_consent_changes_nothing(
    client: httpx.AsyncClient, services: Services, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    emu.authorize_as(emu.create_user("frank"))
    emu.deny_authorization()
    page = await client.get("/auth/discord/login", follow_redirects=True)
    assert page.status_code == 400 and page.url.path == CALLBACK
    assert "did not allow MeatLizard" in page.text
    assert await user_count(services) == 0
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_token_exchange_failure_is_a_page_not_a_500(
    client: httpx.AsyncClient,
    services: Services,
    discord_emulator: DiscordEmulator,
    oauth_app: Application,
) -> None:
    oauth_app.client_secret = "rotated-on-discord"  # our DISCORD_CLIENT_SECRET is now stale
    page = await discord_login(client, discord_emulator, discord_emulator.create_user("gina"))
    assert page.status_code == 503 and "Discord did not accept the login" in page.text
    assert await user_count(services) == 0


async def test_unlink_needs_a_password_first(
    client: httpx.AsyncClient, services: Services, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    hank = emu.create_user("hank")
    await discord_login(client, emu, hank)
    page = await client.get("/account")
    assert "Set a password below before you unlink" in page.text
    refused = await client.post("/account/discord/unlink", data={"csrf_token": await csrf(client)})
    assert refused.status_code == 403 and "set a password first" in refused.text
    user = await account(services, discord_id=str(hank.id))
    assert user is not None

    short = await client.post(
        "/account/password", data={"csrf_token": await csrf(client), "password": "short"}
    )
    assert short.status_code == 422 and "8-256 characters" in short.text
    saved = await client.post(
        "/account/password",
        data={"csrf_token": await csrf(client), "password": PASSWORD},
        follow_redirects=True,
    )
    assert "Password saved" in saved.text
    wrong = await client.post(
        "/account/password",
        data={
            "csrf_token": await csrf(client),
            "password": "another one!",
            "current_password": "x",
        },
    )
    assert wrong.status_code == 401 and "current password is wrong" in wrong.text
    unlinked = await client.post(
        "/account/discord/unlink", data={"csrf_token": await csrf(client)}, follow_redirects=True
    )
    assert "Discord account unlinked" in unlinked.text
    await login(client, "hank")  # the password now logs in
