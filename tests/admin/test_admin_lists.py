"""The admin's user and session lists come a page at a time, filtered in the database."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import insert

from meatlizard.admin import listing
from meatlizard.auth.models import User
from meatlizard.runtime import Services
from tests.helpers import bearer, create_session, login, register

MANY_USERS = 10_000


async def test_ten_thousand_users_are_paged_and_filtered(
    client: httpx.AsyncClient, services: Services
) -> None:
    admin = await login(client, await register(client, "admin0"))
    async with services.sessions() as db:
        await db.execute(
            insert(User),
            [
                {
                    "username": f"lizard{n:05d}",
                    "username_key": f"lizard{n:05d}",
                    "password_hash": "x",
                }
                for n in range(MANY_USERS)
            ],
        )
        await db.commit()
    page = (await client.get("/admin", headers=bearer(admin))).text
    assert page.count("<tr data-user=") == listing.ROWS_PER_PAGE
    assert f"{MANY_USERS + 1} in all · page 1 of 201" in page
    second = (await client.get("/admin?users_page=2", headers=bearer(admin))).text
    assert "lizard00049" in second and "lizard00048" not in second
    found = (await client.get("/admin?users_q=ZARD0999", headers=bearer(admin))).text
    names = re.findall(r'data-username="([^"]+)"', found)
    assert names == [f"lizard0999{n}" for n in range(10)]
    assert "10 in all · page 1 of 1" in found
    wild = (await client.get("/admin?users_q=%25", headers=bearer(admin))).text
    assert "No user matches" in wild  # a % in the filter is a character, not a wildcard
    bad = await client.get("/admin?users_page=0", headers=bearer(admin))
    assert bad.status_code == 422


async def test_sessions_are_filtered_by_title_or_owner(client: httpx.AsyncClient) -> None:
    admin = await login(client, await register(client))
    member_name = await register(client, "member_maria")
    member = await login(client, member_name)
    await create_session(client, member, title="Raid planning")
    await create_session(client, admin, title="Cooking")
    by_title = (await client.get("/admin?sessions_q=raid", headers=bearer(admin))).text
    assert "Raid planning" in by_title and "Cooking</td>" not in by_title
    by_owner = (await client.get("/admin?sessions_q=maria", headers=bearer(admin))).text
    assert "Raid planning" in by_owner and "Cooking</td>" not in by_owner
    # The users filter keeps the sessions filter (and the other way round).
    both = (await client.get("/admin?sessions_q=raid&users_q=maria", headers=bearer(admin))).text
    assert 'name="sessions_q" value="raid"' in both
    assert re.findall(r'data-username="([^"]+)"', both) == [member_name]
