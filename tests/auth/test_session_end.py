"""Sessions end with their reason: a password change, a disabled account, a revoked token."""

from __future__ import annotations

import asyncio

import httpx
import websockets

from tests.helpers import PASSWORD, bearer, create_session, login, register, socket_url

CLOSE_WAIT_SECONDS = 10  # bound: the server re-checks every 2 s
NEW_PASSWORD = "a brand new password"


async def me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code


async def test_a_password_change_ends_the_other_sessions(client: httpx.AsyncClient) -> None:
    name = await register(client)
    here, elsewhere = await login(client, name), await login(client, name)
    script = await client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=bearer(here))
    api_token = script.json()["token"]
    changed = await client.post(
        "/account/password",
        data={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(here),
    )
    assert changed.status_code == 303, changed.text
    assert await me(client, here) == 200  # the session that changed it stays
    assert await me(client, elsewhere) == 401
    assert await me(client, api_token) == 200  # personal API tokens are not sessions
    assert await login(client, name, NEW_PASSWORD)


async def closed_code(ws: websockets.ClientConnection) -> int | None:
    """Wait (bounded) for the server to close the socket; return its close code."""
    try:
        await asyncio.wait_for(ws.recv(), CLOSE_WAIT_SECONDS)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    return None


async def test_disabling_an_account_closes_its_sockets(
    client: httpx.AsyncClient, live_server: str
) -> None:
    admin = await login(client, await register(client))  # the first account is the admin
    name = await register(client)
    token = await login(client, name)
    session = await create_session(client, token)
    users = (await client.get("/api/v1/admin/users", headers=bearer(admin))).json()
    user_id = next(u["id"] for u in users if u["username"] == name)
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        disabled = await client.patch(
            f"/api/v1/admin/users/{user_id}", json={"is_active": False}, headers=bearer(admin)
        )
        assert disabled.status_code == 200, disabled.text
        assert await closed_code(ws) == 4401


async def test_revoking_a_token_closes_its_sockets(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await login(client, await register(client))
    session = await create_session(client, token)
    made = await client.post("/api/v1/auth/tokens", json={"name": "bot"}, headers=bearer(token))
    api_token = made.json()["token"]
    url = socket_url(live_server, session["id"])
    async with (
        websockets.connect(url, additional_headers=bearer(api_token)) as revoked,
        websockets.connect(url, additional_headers=bearer(token)) as kept,
    ):
        gone = await client.delete(
            f"/api/v1/auth/tokens/{made.json()['id']}", headers=bearer(token)
        )
        assert gone.status_code == 204
        assert await closed_code(revoked) == 4401
        await kept.send('{"type": "stop"}')  # the other token's socket still works
        await kept.send("not json")
        error = await asyncio.wait_for(kept.recv(), CLOSE_WAIT_SECONDS)
        assert '"invalid"' in str(error)
