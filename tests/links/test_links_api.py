"""Links API: creation, validation, options, ownership; on both backends."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from meatlizard.core.db import utcnow
from meatlizard.links.models import SLUG_ALPHABET
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token
from tests.links.helpers import TARGET, create_link, follow


async def test_create_and_redirect(client: httpx.AsyncClient, live_server: str) -> None:
    link = await create_link(client, title="Docs", tags=["Work", "docs", "work"])
    slug = link["slug"]
    assert len(slug) == 7 and set(slug) <= set(SLUG_ALPHABET)
    assert not set(slug) & set("0O1lI")
    assert link["short_url"] == f"{live_server}/s/{slug}"
    assert link["url"] == TARGET and link["title"] == "Docs"
    assert link["tags"] == ["work", "docs"]
    assert link["delete_token"]  # anonymous
    response = await follow(client, slug)
    assert response.status_code == 302
    assert response.headers["location"] == TARGET
    assert response.headers["cache-control"] == "private, no-store"


async def test_custom_slug_and_conflict(client: httpx.AsyncClient) -> None:
    link = await create_link(client, slug="my-Docs_2")
    assert link["slug"] == "my-Docs_2"
    taken = await client.post("/api/v1/links", json={"url": TARGET, "slug": "my-Docs_2"})
    assert taken.status_code == 409
    assert "taken" in taken.json()["detail"]


@pytest.mark.parametrize(
    "slug", ["ab", "x" * 65, "-lead", "has space", "dots.no", "ünï", "a/b", "semi;colon"]
)
async def test_bad_slugs(client: httpx.AsyncClient, slug: str) -> None:
    response = await client.post("/api/v1/links", json={"url": TARGET, "slug": slug})
    assert response.status_code == 422
    assert "slug must be" in response.json()["detail"]


@pytest.mark.parametrize(
    "slug",
    [
        "api",
        "API",
        "static",
        "admin",
        "login",
        "mine",
        "paste",
        "healthz",
        "docs",
        "metrics",
        "register",
    ],
)
async def test_reserved_slugs(client: httpx.AsyncClient, slug: str) -> None:
    response = await client.post("/api/v1/links", json={"url": TARGET, "slug": slug})
    assert response.status_code == 422
    assert "reserved" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "only http"),
        ("JavaScript:alert(1)", "only http"),
        ("data:text/html,<script>1</script>", "only http"),
        ("file:///etc/passwd", "only http"),
        ("ftp://example.com/x", "only http"),
        ("//example.com/x", "only http"),
        ("https://", "no host"),
        ("https://exa mple.com", "spaces"),
        ("https://example.com/\x00", "control"),
        ("https://user:pw@example.com/", "user name"),
        ("https://example.com:99999/", "malformed"),
    ],
)
async def test_unsafe_urls(client: httpx.AsyncClient, url: str, reason: str) -> None:
    response = await client.post("/api/v1/links", json={"url": url})
    assert response.status_code == 422
    assert reason in response.json()["detail"]


async def test_self_loop_and_oversized(client: httpx.AsyncClient, live_server: str) -> None:
    loop = await client.post("/api/v1/links", json={"url": f"{live_server}/s/abc"})
    assert loop.status_code == 422
    assert "loop" in loop.json()["detail"]
    huge = await client.post("/api/v1/links", json={"url": "https://e.com/" + "a" * 2040})
    assert huge.status_code == 422
    assert "limit is 2048" in huge.json()["detail"]
    exact = await client.post("/api/v1/links", json={"url": "https://e.com/" + "a" * 2034})
    assert exact.status_code == 201
    body = await client.post(
        "/api/v1/links", content=b"{}" + b" " * 70_000, headers={"Content-Type": "application/json"}
    )
    assert body.status_code == 413


async def test_unicode_target_is_ascii_in_location(client: httpx.AsyncClient) -> None:
    link = await create_link(client, url="https://bücher.example/päth?q=ü")
    assert link["url"] == "https://xn--bcher-kva.example/p%C3%A4th?q=%C3%BC"
    assert (await follow(client, link["slug"])).headers["location"] == link["url"]


async def test_bad_options(client: httpx.AsyncClient) -> None:
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    cases = [
        ({"expires_at": past}, "future"),
        ({"max_clicks": 0}, "greater than or equal to 1"),
        ({"tags": ["no spaces here"]}, "tag"),
        ({"tags": [f"t{i}" for i in range(11)]}, "at most 10"),
        ({"title": "x" * 201}, "at most 200"),
    ]
    for body, reason in cases:
        response = await client.post("/api/v1/links", json={"url": TARGET, **body})
        assert response.status_code == 422, body
        assert reason in str(response.json()["detail"]), response.text


async def test_failed_creation_leaves_no_row(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    await create_link(client, token, slug="only-one")
    again = await client.post(
        "/api/v1/links", json={"url": TARGET, "slug": "only-one"}, headers=bearer(token)
    )
    assert again.status_code == 409
    listed = await client.get("/api/v1/links", headers=bearer(token))
    assert [link["slug"] for link in listed.json()] == ["only-one"]


async def test_curl_form_and_plain_text(client: httpx.AsyncClient, live_server: str) -> None:
    curl = {"User-Agent": "curl/8.5.0"}
    form = await client.post(
        "/api/v1/links", data={"url": TARGET, "slug": "from-curl"}, headers=curl
    )
    assert form.status_code == 201
    assert form.headers["content-type"].startswith("text/plain")
    assert form.text == f"{live_server}/s/from-curl\n"
    as_json = await client.post("/api/v1/links", json={"url": TARGET}, headers=curl)
    assert as_json.json()["slug"]
    plain = await client.post(
        "/api/v1/links", json={"url": TARGET}, headers={"Accept": "text/plain"}
    )
    assert plain.text.startswith(f"{live_server}/s/")
    tagged = await client.post(
        "/api/v1/links", data={"url": TARGET, "tags": "a, b", "max_clicks": "4"}
    )
    assert tagged.json()["tags"] == ["a", "b"] and tagged.json()["max_clicks"] == 4
    bad = await client.post("/api/v1/links", data={"url": "javascript:x"}, headers=curl)
    assert bad.status_code == 422


async def test_owner_list_edit_delete(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)  # the first account is the admin
    alice = await user_token(client)
    bob = await user_token(client)
    first = await create_link(client, alice, tags=["a"])
    second = await create_link(client, alice, tags=["b"])
    await create_link(client, bob)
    listed = (await client.get("/api/v1/links", headers=bearer(alice))).json()
    assert [x["slug"] for x in listed] == [second["slug"], first["slug"]]
    tagged = await client.get("/api/v1/links", params={"tag": "a"}, headers=bearer(alice))
    assert [x["slug"] for x in tagged.json()] == [first["slug"]]
    assert (
        await client.get("/api/v1/links", params={"all": "true"}, headers=bearer(alice))
    ).status_code == 403
    everyone = await client.get("/api/v1/links", params={"all": "true"}, headers=bearer(admin))
    assert len(everyone.json()) == 3
    url = f"/api/v1/links/{first['slug']}"
    assert (await client.get(url, headers=bearer(bob))).status_code == 404
    assert (await client.patch(url, json={"title": "x"}, headers=bearer(bob))).status_code == 404
    edited = await client.patch(
        url,
        json={"url": "https://example.org/new", "title": "New", "tags": ["x"]},
        headers=bearer(alice),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "New" and edited.json()["tags"] == ["x"]
    assert (await follow(client, first["slug"])).headers["location"] == "https://example.org/new"
    unsafe = await client.patch(url, json={"url": "javascript:1"}, headers=bearer(alice))
    assert unsafe.status_code == 422
    assert (await client.patch(url, json={"url": None}, headers=bearer(alice))).status_code == 422
    assert (await client.delete(url, headers=bearer(bob))).status_code == 403
    assert (await client.delete(url, headers=bearer(admin))).status_code == 204
    assert (await follow(client, first["slug"])).status_code == 404
    client.cookies.clear()  # logging in left a session cookie
    assert (await client.get("/api/v1/links")).status_code == 401


async def test_anonymous_delete_token(client: httpx.AsyncClient) -> None:
    link = await create_link(client)
    url = f"/api/v1/links/{link['slug']}"
    assert (await client.delete(url, headers={"X-Delete-Token": "nope"})).status_code == 403
    assert (await follow(client, link["slug"])).status_code == 302
    assert (await client.delete(url, params={"token": link["delete_token"]})).status_code == 204
    assert (await follow(client, link["slug"])).status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/s/abc",
        "http://LOCALHOST./s/abc",
        "http://app.localhost/s/abc",
        "http://127.0.0.1:{port}/s/abc",
        "http://127.1/s/abc",
        "http://2130706433/s/abc",
        "http://[::1]:{port}/s/abc",
        "http://[::ffff:127.0.0.1]/s/abc",
        "http://0.0.0.0:{port}/",
        "https://short.example/s/abc",
        "https://www.short.example/s/abc",
    ],
)
async def test_self_links_are_refused_under_every_alias(
    client: httpx.AsyncClient, services: Services, live_server: str, target: str
) -> None:
    services.settings.link_public_base_url = "https://short.example"
    port = live_server.rsplit(":", 1)[1]
    refused = await client.post("/api/v1/links", json={"url": target.format(port=port)})
    assert refused.status_code == 422, refused.text
    assert "loop" in refused.json()["detail"]
    fine = await client.post("/api/v1/links", json={"url": "https://example.org/localhost"})
    assert fine.status_code == 201, fine.text
