"""REGISTRATION: open, invite-only (single-use codes from admins) or closed; a rate per address."""

from __future__ import annotations

import asyncio

import httpx

from meatlizard.auth import service as auth_service
from meatlizard.runtime import Services
from tests.helpers import PASSWORD, bearer, login, unique_name


async def _admin(client: httpx.AsyncClient, services: Services) -> str:
    """Make an admin the way an operator does (`meatlizard create-admin`); return a token."""
    name = unique_name("admin")
    async with services.sessions() as db:
        await auth_service.register(db, username=name, password=PASSWORD, make_admin=True)
    return await login(client, name)


async def _register(client: httpx.AsyncClient, **extra: str) -> httpx.Response:
    body = {"username": unique_name(), "password": PASSWORD, **extra}
    return await client.post("/api/v1/auth/register", json=body)


async def test_closed_registration_refuses_everyone(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.registration = "closed"
    refused = await _register(client)
    assert refused.status_code == 403
    assert "closed" in refused.json()["detail"]
    page = await client.get("/register")
    assert "Registration is closed" in page.text and 'name="password"' not in page.text


async def test_invite_only_takes_each_code_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.registration = "invite-only"
    admin = await _admin(client, services)
    without = await _register(client)
    assert without.status_code == 403
    assert "invite" in without.json()["detail"]
    assert (await _register(client, invite="made-up-code")).status_code == 403
    made = await client.post("/api/v1/admin/invites", json={}, headers=bearer(admin))
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    racing = await asyncio.gather(*(_register(client, invite=code) for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [201, 403, 403, 403]
    winner = next(r.json()["username"] for r in racing if r.status_code == 201)
    [listed] = (await client.get("/api/v1/admin/invites", headers=bearer(admin))).json()
    assert listed["used_by"] == winner and listed["code"] is None
    client.cookies.clear()  # a logged-in visitor is sent on to /chat
    assert 'name="invite"' in (await client.get("/register")).text
    gone = await client.delete(f"/api/v1/admin/invites/{listed['id']}", headers=bearer(admin))
    assert gone.status_code == 204


async def test_members_cannot_make_invites(client: httpx.AsyncClient) -> None:
    await _register(client)  # the first account: an admin
    member = await _register(client)
    token = await login(client, member.json()["username"])
    refused = await client.post("/api/v1/admin/invites", json={}, headers=bearer(token))
    assert refused.status_code == 403


async def test_registrations_per_address_are_limited(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.settings.registration_rate_limit = "3/hour"
    for _ in range(3):
        assert (await _register(client)).status_code == 201
    limited = await _register(client)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
