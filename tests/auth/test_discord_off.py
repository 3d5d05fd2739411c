"""Without DISCORD_CLIENT_ID the site offers no Discord login, and its pages say so."""

from __future__ import annotations

import httpx

from tests.helpers import login, register


async def test_no_button_and_a_themed_404_when_not_configured(client: httpx.AsyncClient) -> None:
    for page in ("/login", "/register"):
        assert "Log in with Discord" not in (await client.get(page)).text
    for path in ("/auth/discord/login", "/auth/discord/callback?code=x&state=y"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "not set up on this server" in response.text and "<html" in response.text
    await login(client, await register(client))
    assert "Link Discord" not in (await client.get("/account")).text
