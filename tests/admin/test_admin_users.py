"""Admin actions on users and sessions: refused for members, audited for admins."""

from __future__ import annotations

import httpx

from tests.helpers import bearer, create_session, login, register, user_token


async def test_members_cannot_use_admin_endpoints(client: httpx.AsyncClient) -> None:
    await user_token(client)  # the admin
    member = await user_token(client)
    for method, path, body in [
        ("GET", "/api/v1/admin/users", None),
        ("PATCH", "/api/v1/admin/users/1", {"is_admin": False}),
        ("GET", "/api/v1/admin/sessions", None),
        ("POST", "/api/v1/admin/sessions/x/transfer", {"username": "x"}),
        ("POST", "/api/v1/admin/sessions/x/end", None),
        ("PUT", "/api/v1/admin/requests", {"enabled": False}),
    ]:
        response = await client.request(method, path, json=body, headers=bearer(member))
        assert response.status_code == 403, path
        assert response.json()["detail"] == "this needs an admin account"


async def test_disable_promote_and_last_admin_guard(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    name = await register(client)
    member = await login(client, name)
    users = (await client.get("/api/v1/admin/users", headers=bearer(admin))).json()
    member_id = next(u["id"] for u in users if u["username"] == name)
    admin_id = next(u["id"] for u in users if u["is_admin"])

    last = await client.patch(
        f"/api/v1/admin/users/{admin_id}", json={"is_admin": False}, headers=bearer(admin)
    )
    assert last.status_code == 409
    assert "no active admin" in last.json()["detail"]
    disable_self = await client.patch(
        f"/api/v1/admin/users/{admin_id}", json={"is_active": False}, headers=bearer(admin)
    )
    assert disable_self.status_code == 409
    assert "no active admin" in disable_self.json()["detail"]

    disabled = await client.patch(
        f"/api/v1/admin/users/{member_id}", json={"is_active": False}, headers=bearer(admin)
    )
    assert disabled.json()["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=bearer(member))).status_code == 401
    relogin = await client.post(
        "/api/v1/auth/login", json={"username": name, "password": "correct horse battery"}
    )
    assert relogin.status_code == 401

    promoted = await client.patch(
        f"/api/v1/admin/users/{member_id}",
        json={"is_admin": True, "is_active": True},
        headers=bearer(admin),
    )
    assert promoted.json()["is_admin"] is True
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert [e["action"] for e in audit[:2]] == ["user.update", "user.update"]
    assert audit[0]["detail"] == {"is_admin": True, "is_active": True}


async def test_transfer_and_end_a_session(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    owner = await user_token(client)
    heir_name = await register(client)
    heir = await login(client, heir_name)
    session = await create_session(client, owner, title="inheritance")
    moved = await client.post(
        f"/api/v1/admin/sessions/{session['id']}/transfer",
        json={"username": heir_name.upper()},
        headers=bearer(admin),
    )
    assert moved.status_code == 200, moved.text
    assert (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(owner))
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(heir))
    ).status_code == 200
    missing = await client.post(
        f"/api/v1/admin/sessions/{session['id']}/transfer",
        json={"username": "nobody-here"},
        headers=bearer(admin),
    )
    assert missing.status_code == 404
    ended = await client.post(f"/api/v1/admin/sessions/{session['id']}/end", headers=bearer(admin))
    assert ended.json()["ended"] is True
    listed = (await client.get("/api/v1/admin/sessions", headers=bearer(admin))).json()
    assert listed[0]["owner"] == heir_name and listed[0]["ended"] is True
    found = await client.get(
        "/api/v1/admin/sessions", params={"q": heir_name.upper()}, headers=bearer(admin)
    )
    assert [row["owner"] for row in found.json()] == [heir_name]
    nothing = await client.get(
        "/api/v1/admin/sessions", params={"q": "no-such-owner", "page": 2}, headers=bearer(admin)
    )
    assert nothing.json() == []
    too_long = await client.get(
        "/api/v1/admin/sessions", params={"q": "x" * 101}, headers=bearer(admin)
    )
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["loc"] == ["query", "q"]
    page = await client.get("/admin", headers=bearer(admin))
    assert "inheritance" in page.text and heir_name in page.text
