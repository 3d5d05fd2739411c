"""OAuth2 "Log in with Discord": authorize redirect, code exchange, refresh and /users/@me."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.fixtures.discord import DiscordWorld

REDIRECT = "http://127.0.0.1:9/auth/discord/callback"


async def _authorize(
    session: aiohttp.ClientSession, base: str, client_id: int
) -> aiohttp.ClientResponse:
    params = {
        "client_id": str(client_id),
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "identify email",
        "state": "xyz",
    }
    return await session.get(f"{base}/oauth2/authorize", params=params, allow_redirects=False)


async def test_code_exchange_gives_a_bearer_token_for_users_me(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    app = emulator.create_bot("web-login", redirect_uris=[REDIRECT])
    emulator.authorize_as(discord_world.member)
    async with aiohttp.ClientSession() as session:
        redirect = await _authorize(session, emulator.url, app.id)
        assert redirect.status == 302
        location = urlsplit(redirect.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["state"] == ["xyz"]
        form = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": str(app.id),
            "client_secret": app.client_secret,
        }
        async with session.post(f"{emulator.url}/api/oauth2/token", data=form) as response:
            assert response.status == 200
            token = await response.json()
        assert token["token_type"] == "Bearer" and token["scope"] == "identify email"
        assert token["expires_in"] == 604800
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        async with session.get(f"{emulator.api_url}/users/@me", headers=bearer) as response:
            me = await response.json()
        assert me["id"] == str(discord_world.member.id) and me["username"] == "alice"
        assert me["email"] == discord_world.member.email

        async with session.post(f"{emulator.url}/api/oauth2/token", data=form) as reused:
            assert reused.status == 400
            assert (await reused.json())["error"] == "invalid_grant"

        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
        }
        basic = base64.b64encode(f"{app.id}:{app.client_secret}".encode()).decode()
        async with session.post(
            f"{emulator.url}/api/v10/oauth2/token",
            data=refresh,
            headers={"Authorization": f"Basic {basic}"},
        ) as r:
            assert r.status == 200 and (await r.json())["access_token"] != token["access_token"]


async def test_bad_client_redirect_and_token_are_refused(discord_world: DiscordWorld):
    emulator = discord_world.emulator
    app = emulator.create_bot("web-login", redirect_uris=[REDIRECT])
    async with aiohttp.ClientSession() as session:
        nobody = await _authorize(session, emulator.url, app.id)
        assert nobody.status == 400 and (await nobody.json())["error"] == "access_denied"
        emulator.authorize_as(discord_world.member)
        params = {
            "client_id": str(app.id),
            "redirect_uri": "http://evil.test/",
            "response_type": "code",
            "scope": "identify",
        }
        async with session.get(
            f"{emulator.url}/oauth2/authorize", params=params, allow_redirects=False
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_request"
        form = {
            "grant_type": "authorization_code",
            "code": "nope",
            "redirect_uri": REDIRECT,
            "client_id": str(app.id),
            "client_secret": "wrong",
        }
        async with session.post(f"{emulator.url}/api/oauth2/token", data=form) as r:
            assert r.status == 401 and (await r.json())["error"] == "invalid_client"
        form["client_secret"] = app.client_secret
        async with session.post(f"{emulator.url}/api/oauth2/token", data=form) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_grant"
        bearer = {"Authorization": "Bearer not-a-token"}
        async with session.get(f"{emulator.api_url}/users/@me", headers=bearer) as r:
            assert r.status == 401 and (await r.json()) == {
                "message": "401: Unauthorized",
                "code": 0,
            }
