"""Hot paste reads from the cache: no database trip, and never a paste readers must not see."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import undefer

from meatlizard.app import create_app
from meatlizard.core.db import utcnow
from meatlizard.core.security import new_csrf_token
from meatlizard.pastes.hot import LOAD_WINDOW_SECONDS, cache_key
from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services
from tests.fixtures.backends import Backend
from tests.helpers import PASSWORD, bearer, register, user_token

SOURCE = "def hello(name: str) -> str:\n    return f'hi {name}'\n"


async def _create(
    client: httpx.AsyncClient, token: str | None = None, **body: Any
) -> dict[str, Any]:
    body = {"content": SOURCE, "language": "python", **body}
    headers = bearer(token) if token else {}
    response = await client.post("/api/v1/pastes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def _token(client: httpx.AsyncClient, name: str | None = None) -> str:
    """Return a fresh user's bearer token, leaving no session cookie in the client."""
    token = await user_token(client, name)
    client.cookies.clear()
    return token


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """Collect the SQL statements the app sends while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        seen.append(sql)

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _gone(client: httpx.AsyncClient, paste_id: str) -> bool:
    raw = await client.get(f"/p/{paste_id}/raw")
    page = await client.get(f"/p/{paste_id}")
    return raw.status_code == 404 and page.status_code == 404


async def test_hot_reads_make_no_database_trip(
    client: httpx.AsyncClient, services: Services
) -> None:
    paste_id = (await _create(client))["id"]
    with statements(services) as seen:
        raw = await client.get(f"/p/{paste_id}/raw")
        await client.get(f"/p/{paste_id}")  # a first visit: a CSRF cookie, so no ETag yet
        page = await client.get(f"/p/{paste_id}")
        again = await client.get(f"/p/{paste_id}", headers={"If-None-Match": page.headers["etag"]})
    assert raw.text == SOURCE and 'id="L2"' in page.text  # highlighted, line by line
    assert again.status_code == 304
    assert seen == []


async def test_a_cold_read_loads_once_then_serves_from_the_cache(
    client: httpx.AsyncClient, services: Services
) -> None:
    paste_id = (await _create(client))["id"]
    await services.cache.delete(cache_key(paste_id))  # as after a restart or an eviction
    with statements(services) as seen:
        assert (await client.get(f"/p/{paste_id}/raw")).text == SOURCE
        loaded = len(seen)
        assert (await client.get(f"/p/{paste_id}")).status_code == 200
    assert loaded > 0 and len(seen) == loaded


async def _visit(client: httpx.AsyncClient, path: str, cookie: str = "") -> httpx.Response:
    """GET with exactly this Cookie header (none kept from earlier answers)."""
    client.cookies.clear()
    return await client.get(path, headers={"Cookie": cookie} if cookie else {})


async def test_fast_answers_are_the_routes_answers(
    client: httpx.AsyncClient, services: Services
) -> None:
    """The route answers when a session cookie is sent; an unknown one reads as anonymous."""
    made = await _create(client, title="<b>greeting</b>", expires_in="1h")
    page = f"/p/{made['id']}"
    token = await _token(client)
    # A token made for the cookies it comes with is kept (and tagged); an empty or planted one
    # is replaced. The route's visitor sends a stale session cookie, so its token is its own.
    cases = [(new_csrf_token(None), new_csrf_token("stale"), True), ("", "", False)]
    for fast_csrf, routed_csrf, kept in [*cases, ("planted", "planted", False)]:
        fast = await _visit(client, page, f"ml_csrf={fast_csrf}")
        routed = await _visit(client, page, f"ml_csrf={routed_csrf}; ml_session=stale")
        assert fast.status_code == routed.status_code == 200
        if kept:
            assert fast.text.replace(fast_csrf, "T") == routed.text.replace(routed_csrf, "T")
            for cookie, answer in (
                (f"ml_csrf={fast_csrf}", fast),
                (routed.request.headers["cookie"], routed),
            ):
                again = await client.get(
                    page, headers={"Cookie": cookie, "If-None-Match": answer.headers["etag"]}
                )
                assert again.status_code == 304, cookie
        else:
            assert fast.text != routed.text  # each drew a fresh token
        for name in ("content-type", "cache-control", "content-length"):
            assert fast.headers.get(name) == routed.headers.get(name), name
        assert ("etag" in fast.headers) == ("etag" in routed.headers) == kept
        assert ("set-cookie" in fast.headers) == ("set-cookie" in routed.headers) != kept
    for response in (await _visit(client, page), await _visit(client, page, "ml_session=x")):
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("ml_csrf=") and cookie.endswith("; Path=/; SameSite=strict")
        token_value = cookie.split(";")[0].removeprefix("ml_csrf=")
        assert f'content="{token_value}"' in response.text
    name = "hot_page_owner"
    owner = await user_token(client, name)  # keeps the session cookie, as a browser would
    session = client.cookies["ml_session"]
    owned = (await _create(client, owner))["id"]
    mine = await _visit(client, f"/p/{owned}", f"ml_session={session}")
    assert name in mine.text and 'data-can-delete="1"' in mine.text
    fast_raw = await _visit(client, f"{page}/raw")
    routed_raw = await client.get(f"{page}/raw", headers=bearer(token))
    assert fast_raw.content == routed_raw.content
    assert fast_raw.headers == {**routed_raw.headers, "date": fast_raw.headers["date"]}


async def test_a_cached_paste_expires_on_time(
    client: httpx.AsyncClient, services: Services
) -> None:
    paste_id = (await _create(client, expires_in="10m"))["id"]
    assert await services.pastes.lookup(paste_id) is not None
    later = time.time() + 10 * 60 + 1
    services.pastes.clock = lambda: later
    assert await services.pastes.lookup(paste_id) is None  # the entry alone says so
    async with services.sessions() as db:  # the same ten minutes, as the database sees them
        expire = update(Paste).where(Paste.id == paste_id)
        await db.execute(expire.values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert await _gone(client, paste_id)


async def test_deleted_pastes_leave_the_cache(
    client: httpx.AsyncClient, services: Services
) -> None:
    anonymous = await _create(client)
    token = await _token(client)
    owned = await _create(client, token)
    for made in (anonymous, owned):
        assert (await client.get(f"/p/{made['id']}/raw")).status_code == 200
    by_token = await client.delete(
        f"/api/v1/pastes/{anonymous['id']}", headers={"X-Delete-Token": anonymous["delete_token"]}
    )
    by_owner = await client.delete(f"/api/v1/pastes/{owned['id']}", headers=bearer(token))
    assert by_token.status_code == by_owner.status_code == 204
    assert await _gone(client, anonymous["id"]) and await _gone(client, owned["id"])


async def test_a_reader_that_loaded_before_a_delete_cannot_restore_it(
    services: Services, client: httpx.AsyncClient
) -> None:
    made = await _create(client)
    paste_id = made["id"]
    await services.cache.delete(cache_key(paste_id))  # a cold cache: the reader will store
    async with services.sessions() as db:  # the reader loads the row ...
        since = services.pastes.started()
        row = await db.get(Paste, paste_id, options=[undefer(Paste.rendered_z)])
        assert row is not None
    deleted = await client.delete(  # ... a delete commits meanwhile ...
        f"/api/v1/pastes/{paste_id}", headers={"X-Delete-Token": made["delete_token"]}
    )
    assert deleted.status_code == 204
    await services.pastes.remember(row, row.rendered, since=since)  # ... then it stores
    assert await services.pastes.lookup(paste_id) is None
    assert await _gone(client, paste_id)
    await services.cache.delete(cache_key(paste_id))  # the tombstone lapsed, but so did
    services.pastes.monotonic = lambda: since + LOAD_WINDOW_SECONDS + 1  # the load's window
    await services.pastes.remember(row, row.rendered, since=since)
    assert await services.pastes.lookup(paste_id) is None
    services.pastes.monotonic = lambda: since  # inside its window the same load is stored
    await services.pastes.remember(row, row.rendered, since=since)
    assert await services.pastes.lookup(paste_id) is not None


async def test_one_time_secret_and_private_pastes_are_never_cached(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await _token(client)
    burned = (await _create(client, burn_after_read=True))["id"]
    locked = (await _create(client, password="pw"))["id"]
    private = (await _create(client, token, visibility="private"))["id"]
    assert (await client.get(f"/p/{locked}/raw", headers={"X-Paste-Password": "pw"})).is_success
    assert (await client.get(f"/p/{private}", headers=bearer(token))).is_success
    assert (await client.get(f"/p/{private}/raw", headers=bearer(token))).is_success
    for paste_id in (burned, locked, private):
        assert await services.cache.get(cache_key(paste_id)) is None, paste_id
    assert (await client.get(f"/p/{private}/raw")).status_code == 404
    other = await _token(client)
    assert (await client.get(f"/p/{private}", headers=bearer(other))).status_code == 404
    assert (await client.get(f"/p/{locked}/raw")).status_code == 403
    assert (await client.get(f"/p/{burned}/raw")).text == SOURCE
    assert (await client.get(f"/p/{burned}/raw")).status_code == 404


async def test_anonymised_text_replaces_the_cached_copy(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client)  # the admin, so the next account is an ordinary member
    name = "hot_cache_author"
    token = await _token(client, name)
    made = await _create(client, token, content=f"notes by {name}\n")
    before = await client.get(f"/p/{made['id']}/raw")
    assert name in before.text
    scrubbed = await client.post(
        "/api/v1/auth/me/anonymize", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert scrubbed.status_code == 200, scrubbed.text
    after = await client.get(
        f"/p/{made['id']}/raw", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200 and name not in after.text
    assert after.headers["etag"] != before.headers["etag"]
    assert name not in (await client.get(f"/p/{made['id']}")).text


async def test_deleting_the_account_drops_its_cached_pastes(
    client: httpx.AsyncClient, services: Services
) -> None:
    await register(client)
    token = await _token(client)
    paste_id = (await _create(client, token))["id"]
    assert (await client.get(f"/p/{paste_id}")).status_code == 200
    deleted = await client.request(
        "DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert deleted.status_code == 200, deleted.text
    assert await _gone(client, paste_id)


async def test_every_process_sees_a_delete(
    backend: Backend, client: httpx.AsyncClient, services: Services
) -> None:
    """Two processes on one Redis: a delete in one is seen by the other's hot path."""
    if backend.name != "production":
        pytest.skip("the in-process cache belongs to one process")
    made = await _create(client)
    other = Services.build(services.settings, inference=services.inference)
    transport = httpx.ASGITransport(app=create_app(other.settings, services=other))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as second:
            assert (await second.get(f"/p/{made['id']}/raw")).text == SOURCE
            deleted = await second.delete(
                f"/api/v1/pastes/{made['id']}", headers={"X-Delete-Token": made["delete_token"]}
            )
            assert deleted.status_code == 204
        assert await _gone(client, made["id"])
    finally:
        await other.cache.close()
        await other.engine.dispose()


async def test_lines_drawn_by_another_renderer_are_not_served(
    client: httpx.AsyncClient, services: Services
) -> None:
    """An entry cached by a process before an upgrade (other Pygments or layout) is a miss."""
    paste_id = (await _create(client))["id"]
    data = json.loads(await services.cache.get(cache_key(paste_id)) or b"{}")
    data.update(version="0" * 64, lines='<span class="line">old layout</span>')
    await services.cache.set(cache_key(paste_id), json.dumps(data).encode(), ttl_seconds=60)
    page = await client.get(f"/p/{paste_id}")
    assert page.status_code == 200 and "old layout" not in page.text and 'id="L2"' in page.text
