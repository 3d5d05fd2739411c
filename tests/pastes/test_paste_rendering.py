"""Highlighting stored at creation: drawn once, redrawn when stale, never for ciphertext."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import undefer

from meatlizard.core.db import utcnow
from meatlizard.pastes import highlight, rendering
from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.hot import cache_key
from meatlizard.pastes.models import Paste, pack_html
from meatlizard.runtime import Services
from tests.pastes.helpers import ciphertext

SOURCE = "def greet(name):\n    return 'hi ' + name\n"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Highlight in a thread of the server, where the spy below sees every drawing."""
    return {"paste_highlight_processes": 0}


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the text of every highlighting the server draws (at creation or on a view)."""
    drawn: list[str] = []
    draw = highlight.render_lines

    def spy(content: str, language: str) -> object:
        drawn.append(content)
        return draw(content, language)

    for module in (highlight, rendering):
        monkeypatch.setattr(module, "render_lines", spy)
    return drawn


async def _create(client: httpx.AsyncClient, **body: object) -> str:
    response = await client.post("/api/v1/pastes", json={"content": SOURCE, **body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _row(services: Services, paste_id: str) -> Paste:
    async with services.sessions() as db:
        row = await db.get(Paste, paste_id, options=[undefer(Paste.rendered_z)])
        assert row is not None
        return row


async def test_highlighting_is_drawn_once_at_creation(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    paste_id = await _create(client, language="python")
    assert draws == [SOURCE]
    row = await _row(services, paste_id)
    assert row.rendered is not None and 'id="L2"' in row.rendered
    assert row.rendered_version == content_version(SOURCE, "python")
    for _ in range(3):
        page = await client.get(f"/p/{paste_id}")
        assert page.status_code == 200
        assert '<span class="nf">greet</span>' in page.text and 'href="#L2"' in page.text
    assert draws == [SOURCE]  # views only fill in the template


async def test_changed_text_drops_and_redraws_its_highlighting(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    paste_id = await _create(client, language="python")
    async with services.sessions() as db:  # as the GDPR scrub does: through the ORM
        row = await db.get(Paste, paste_id)
        assert row is not None
        row.content = "def scrubbed():\n    pass\n"
        await db.commit()
    await services.pastes.forget(paste_id)  # as the scrub does once it commits
    row = await _row(services, paste_id)
    assert row.rendered is None and row.rendered_version is None  # no stale copy of old text
    page = (await client.get(f"/p/{paste_id}")).text
    assert "scrubbed" in page and "greet" not in page
    assert draws == [SOURCE, "def scrubbed():\n    pass\n"]
    row = await _row(services, paste_id)
    assert row.rendered is not None and "scrubbed" in row.rendered  # stored again
    assert row.rendered_version == content_version(row.content, "python")
    await client.get(f"/p/{paste_id}")
    assert len(draws) == 2


async def test_a_bulk_change_is_caught_by_the_content_version(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    paste_id = await _create(client, language="python")
    async with services.sessions() as db:  # a statement skips ORM events: the version catches it
        changed = update(Paste).where(Paste.id == paste_id).values(content="def other(): pass\n")
        await db.execute(changed)
        await db.commit()
    await services.cache.delete(cache_key(paste_id))  # the cached copy lapses
    page = (await client.get(f"/p/{paste_id}")).text
    assert "other" in page and "greet" not in page
    assert draws[-1] == "def other(): pass\n"


async def test_pastes_without_a_stored_rendering_get_one_on_first_view(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    paste_id = await _create(client, language="python")
    async with services.sessions() as db:  # as rows made before highlighting was stored
        blank = update(Paste).where(Paste.id == paste_id).values(rendered_z=None)
        await db.execute(blank)
        await db.commit()
    await services.cache.delete(cache_key(paste_id))  # nor were they ever cached
    assert "greet" in (await client.get(f"/p/{paste_id}")).text
    assert "greet" in (await client.get(f"/p/{paste_id}")).text
    assert draws == [SOURCE, SOURCE]
    assert (await _row(services, paste_id)).rendered is not None


async def test_ciphertext_is_never_highlighted(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    sealed = ciphertext()
    paste_id = await _create(client, content=sealed, encrypted=True, language="python")
    page = await client.get(f"/p/{paste_id}")
    assert page.status_code == 200 and 'class="line"' not in page.text
    row = await _row(services, paste_id)
    assert row.rendered is None and row.rendered_version is None
    async with services.sessions() as db:  # even a planted rendering is never shown
        planted = '<span class="line" id="L1">planted</span>'
        version = content_version(sealed, "python")
        plant = update(Paste).where(Paste.id == paste_id)
        await db.execute(plant.values(rendered_z=pack_html(planted), rendered_version=version))
        await db.commit()
    assert "planted" not in (await client.get(f"/p/{paste_id}")).text
    assert draws == []


async def test_expiry_is_checked_on_every_view(
    client: httpx.AsyncClient, services: Services
) -> None:
    paste_id = await _create(client, language="python", expires_in="10m")
    assert (await client.get(f"/p/{paste_id}")).status_code == 200
    later = time.time() + 10 * 60 + 1  # ten minutes pass, for the cached copy ...
    services.pastes.clock = lambda: later
    async with services.sessions() as db:  # ... and for the database
        expire = update(Paste).where(Paste.id == paste_id)
        await db.execute(expire.values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    assert (await client.get(f"/p/{paste_id}")).status_code == 404
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 404


async def test_burned_page_view_is_served_once_under_a_race(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    paste_id = await _create(client, language="python", burn_after_read=True)
    assert (await client.get(f"/p/{paste_id}")).status_code == 200  # the confirm step
    form = {"csrf_token": client.cookies["ml_csrf"]}
    views = await asyncio.gather(*(client.post(f"/p/{paste_id}", data=form) for _ in range(8)))
    served = [v for v in views if v.status_code == 200]
    assert len(served) == 1 and sorted(v.status_code for v in views) == [200] + [404] * 7
    assert '<span class="nf">greet</span>' in served[0].text  # the stored lines, once
    assert draws == [SOURCE]
    async with services.sessions() as db:
        assert await db.get(Paste, paste_id) is None


async def test_a_cold_anonymous_read_is_one_query(
    client: httpx.AsyncClient, services: Services, draws: list[str]
) -> None:
    paste_id = await _create(client, language="python")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(services.engine.sync_engine, "before_cursor_execute", record)
    try:
        for path in (f"/p/{paste_id}/raw", f"/p/{paste_id}"):
            await services.cache.delete(cache_key(paste_id))  # as after a restart
            statements.clear()
            assert (await client.get(path)).status_code == 200
            assert statements == ["SELECT"], path  # no user lookup, no write-back
            statements.clear()
            assert (await client.get(path)).status_code == 200
            assert statements == [], path  # then hot: from the cache
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", record)
    assert draws == [SOURCE]
