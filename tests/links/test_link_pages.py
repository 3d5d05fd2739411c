"""Link pages: the shortener form, statistics and settings, and My stuff."""

from __future__ import annotations

import httpx

from meatlizard.runtime import Services
from tests.helpers import bearer, user_token
from tests.links.helpers import create_link, follow


async def test_links_page_empty_states(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/links")
    assert anonymous.status_code == 200
    assert 'id="link-form"' in anonymous.text and "coming soon" not in anonymous.text.lower()
    assert "Log in" in anonymous.text
    token = await user_token(client)  # leaves a session cookie: the page knows the user
    empty = await client.get("/links")
    assert 'id="links-empty"' in empty.text
    link = await create_link(client, token, title="Lizard facts")
    listed = await client.get("/links")
    assert f"/s/{link['slug']}" in listed.text and "Lizard facts" in listed.text


async def test_stats_page(client: httpx.AsyncClient, services: Services) -> None:
    owner = await user_token(client)
    link = await create_link(client, owner, max_clicks=9)
    fresh = await client.get(f"/links/{link['slug']}/stats")
    assert "No clicks in these 30 days yet" in fresh.text and "<rect" not in fresh.text
    for _ in range(3):
        await follow(client, link["slug"], Referer="https://forum.example/t/1")
    await services.links.clicks.flush()
    page = await client.get(f"/links/{link['slug']}/stats")
    assert page.status_code == 200
    assert "3 clicks" in page.text and "forum.example" in page.text
    assert page.text.count("<rect") == 30 and "3 clicks, 0 bots" in page.text
    assert "No clicks in these" not in page.text
    assert "limit 9" in page.text and "no GeoIP database" in page.text
    client.cookies.clear()
    await user_token(client)  # someone else
    assert (await client.get(f"/links/{link['slug']}/stats")).status_code == 404


async def test_mine_lists_pastes_and_links(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    client.cookies.clear()
    alice = await user_token(client)
    await create_link(client, alice, title="alice link")
    paste = await client.post(
        "/api/v1/pastes", json={"content": "hi", "title": "alice paste"}, headers=bearer(alice)
    )
    assert paste.status_code == 201
    mine = await client.get("/mine")
    assert "alice link" in mine.text and "alice paste" in mine.text
    assert "data-delete-link" in mine.text and "data-delete-paste" in mine.text
    client.cookies.clear()
    bob = await user_token(client)
    bobs = await client.get("/mine")
    assert "alice link" not in bobs.text and "alice paste" not in bobs.text
    assert bob
    client.cookies.clear()
    assert (await client.get("/mine")).status_code == 303
    own = await client.get("/mine", headers=bearer(admin))
    assert "alice link" not in own.text and "My stuff</h1>" in own.text
    admins = await client.get("/mine?everyone=true", headers=bearer(admin))
    assert "alice link" in admins.text and "alice paste" in admins.text
    assert "Everyone's stuff" in admins.text
