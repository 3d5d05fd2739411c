"""Registration, login, tokens and their failure modes, over the real HTTP server."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from meatlizard.core.security import new_csrf_token
from tests.helpers import PASSWORD, bearer, login, register, unique_name, user_token


async def test_first_user_is_admin_and_later_ones_are_not(client: httpx.AsyncClient) -> None:
    first = await user_token(client)
    second = await user_token(client)
    me1 = (await client.get("/api/v1/auth/me", headers=bearer(first))).json()
    me2 = (await client.get("/api/v1/auth/me", headers=bearer(second))).json()
    assert me1["is_admin"] is True
    assert me2["is_admin"] is False


async def test_login_returns_bearer_token_and_cookie(client: httpx.AsyncClient) -> None:
    name = await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"username": name.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("mls_")
    assert "ml_session" in response.cookies
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["username"] == name


@pytest.mark.parametrize(
    ("username", "password", "fragment"),
    [
        ("ab", PASSWORD, "3-32 characters"),
        ("has space", PASSWORD, "3-32 characters"),
        ("x" * 33, PASSWORD, "3-32 characters"),
        ("validname", "short", "8-256 characters"),
    ],
)
async def test_register_rejects_bad_input(
    client: httpx.AsyncClient, username: str, password: str, fragment: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"username": username, "password": password}
    )
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


async def test_register_refuses_taken_name_case_insensitively(client: httpx.AsyncClient) -> None:
    name = await register(client)
    response = await client.post(
        "/api/v1/auth/register", json={"username": name.upper(), "password": PASSWORD}
    )
    assert response.status_code == 409
    assert "already taken" in response.json()["detail"]


async def test_wrong_password_is_401_then_throttled(client: httpx.AsyncClient) -> None:
    name = await register(client)
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/login", json={"username": name, "password": "wrong password"}
        )
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong username or password"
    blocked = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # Another account is not affected by this one's throttle.
    assert await login(client, await register(client))


async def test_unknown_user_gets_same_answer_as_wrong_password(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": unique_name(), "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong username or password"


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    response = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 401


async def test_api_routes_require_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/chat/sessions")).status_code == 401
    bad = await client.get("/api/v1/chat/sessions", headers=bearer("mls_not-a-real-token"))
    assert bad.status_code == 401
    assert bad.json()["detail"] == "invalid or expired token"


async def test_personal_api_tokens_lifecycle(client: httpx.AsyncClient) -> None:
    session_token = await user_token(client)
    created = await client.post(
        "/api/v1/auth/tokens", json={"name": "ci script"}, headers=bearer(session_token)
    )
    assert created.status_code == 201
    api_token = created.json()["token"]
    assert api_token.startswith("mlt_")
    listed = (await client.get("/api/v1/auth/tokens", headers=bearer(api_token))).json()
    assert [t["name"] for t in listed] == ["ci script"]
    assert "token" not in listed[0]
    deleted = await client.delete(
        f"/api/v1/auth/tokens/{listed[0]['id']}", headers=bearer(session_token)
    )
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(api_token))).status_code == 401


async def test_api_token_needs_a_name(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    response = await client.post("/api/v1/auth/tokens", json={"name": ""}, headers=bearer(token))
    assert response.status_code == 422


async def test_cookie_authenticated_write_needs_csrf_token(client: httpx.AsyncClient) -> None:
    await user_token(client)  # the client now carries the session cookie and its CSRF token
    made_for_session = client.cookies["ml_csrf"]
    refused = await client.post("/api/v1/chat/sessions", json={})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    accepted = await client.post(
        "/api/v1/chat/sessions", json={}, headers={"X-CSRF-Token": made_for_session}
    )
    assert accepted.status_code == 201


async def test_a_csrf_token_planted_in_the_browser_is_refused(
    client: httpx.AsyncClient, live_server: str
) -> None:
    """Someone who can set the site's cookies (a sibling subdomain) cannot choose the token:
    neither one made up, nor one made for no session, nor one made for their own session."""
    await user_token(client)
    async with httpx.AsyncClient(base_url=live_server) as attacker:
        await user_token(attacker)
        theirs = attacker.cookies["ml_csrf"]
    planted = ["known-token", new_csrf_token(None), new_csrf_token("ml_other"), theirs]
    for token in planted:
        client.cookies.delete("ml_csrf")
        client.cookies.set("ml_csrf", token)
        refused = await client.post(
            "/api/v1/chat/sessions", json={}, headers={"X-CSRF-Token": token}
        )
        assert refused.status_code == 403, token
        assert "CSRF" in refused.json()["detail"]
    # Without the planted cookie, a page visit gives a token made for this session, which works.
    client.cookies.delete("ml_csrf")
    page = await client.get("/chat")
    token = page.cookies["ml_csrf"]
    assert token not in planted and f'content="{token}"' in page.text
    accepted = await client.post("/api/v1/chat/sessions", json={}, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201


async def test_login_and_logout_each_bring_a_new_csrf_token(client: httpx.AsyncClient) -> None:
    before = (await client.get("/login")).cookies["ml_csrf"]
    name = await register(client)
    page = await client.get("/login")
    logged_in = await client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": _form_token(page.text)},
    )
    assert logged_in.status_code == 303, logged_in.text
    during = logged_in.cookies["ml_csrf"]
    assert during != before
    account = await client.get("/account")
    assert account.status_code == 200 and "ml_csrf" not in account.cookies  # kept
    out = await client.post("/logout", data={"csrf_token": _form_token(account.text)})
    assert out.status_code == 303
    after = (await client.get("/login")).cookies["ml_csrf"]
    assert after not in (before, during)


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "the page's form carries no CSRF token"
    return match.group(1)


async def test_concurrent_first_registrations_make_exactly_one_admin(
    client: httpx.AsyncClient,
) -> None:
    names = [unique_name() for _ in range(8)]
    await asyncio.gather(*(register(client, name) for name in names))
    admins = []
    for name in names:
        me = await client.get("/api/v1/auth/me", headers=bearer(await login(client, name)))
        if me.json()["is_admin"]:
            admins.append(name)
    assert len(admins) == 1, admins
