"""The redirect path: options, exact batched click counts, shutdown flush, statistics."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from meatlizard.app import create_app
from meatlizard.core.db import make_engine, make_session_factory, utcnow
from meatlizard.links.models import Link, LinkStat
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token
from tests.links.helpers import TARGET, create_link, follow

BURST = 200


async def _stored_clicks(services: Services, slug: str) -> tuple[int, int]:
    async with services.sessions() as db:
        link = await db.scalar(select(Link).where(Link.slug == slug))
        assert link is not None
        return link.clicks, link.bot_clicks


async def test_burst_is_counted_exactly(client: httpx.AsyncClient, services: Services) -> None:
    token = await user_token(client)
    link = await create_link(client, token)
    slug = link["slug"]
    responses = await asyncio.gather(
        *(follow(client, slug, Referer="https://chat.example/room") for _ in range(BURST))
    )
    assert {r.status_code for r in responses} == {302}
    assert await _stored_clicks(services, slug) == (0, 0)  # nothing written per click
    assert await services.links.clicks.flush() == BURST
    assert await _stored_clicks(services, slug) == (BURST, 0)
    assert await services.links.clicks.flush() == 0  # a flush writes each click once
    stats = (await client.get(f"/api/v1/links/{slug}/stats", headers=bearer(token))).json()
    assert stats["clicks"] == BURST and stats["days"][-1]["clicks"] == BURST
    assert len(stats["days"]) == 30
    assert stats["referrers"] == [{"value": "chat.example", "count": BURST}]
    assert stats["browsers"] == [{"value": "Chrome", "count": BURST}]
    assert stats["os"] == [{"value": "Linux", "count": BURST}]
    assert stats["countries"] is None


async def test_bots_are_counted_separately(client: httpx.AsyncClient, services: Services) -> None:
    token = await user_token(client)
    slug = (await create_link(client, token))["slug"]
    agents = ["curl/8.5.0", "Mozilla/5.0 (compatible; Discordbot/2.0)", "", "SomeCrawler/1.0"]
    for agent in agents:
        assert (await client.get(f"/s/{slug}", headers={"User-Agent": agent})).status_code == 302
    firefox = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
    await client.get(f"/s/{slug}", headers={"User-Agent": firefox})
    pending = (await client.get(f"/api/v1/links/{slug}", headers=bearer(token))).json()
    assert (pending["clicks"], pending["bot_clicks"]) == (1, 4)  # unwritten clicks included
    await services.links.clicks.flush()
    stats = (await client.get(f"/api/v1/links/{slug}/stats", headers=bearer(token))).json()
    assert (stats["clicks"], stats["bot_clicks"]) == (1, 4)
    bots = {row["value"] for row in stats["bots"]}
    assert bots == {"curl", "Discord", "(no user agent)", "other bot"}
    assert stats["browsers"] == [{"value": "Firefox", "count": 1}]
    assert stats["os"] == [{"value": "Windows", "count": 1}]
    assert stats["referrers"] == [{"value": "(direct)", "count": 1}]


async def test_max_clicks_is_exact_under_concurrency(
    client: httpx.AsyncClient, services: Services
) -> None:
    link = await create_link(client, max_clicks=5)
    responses = await asyncio.gather(*(follow(client, link["slug"]) for _ in range(40)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] * 5 + [410] * 35
    gone = next(r for r in responses if r.status_code == 410)
    assert "click limit" in gone.text and "<html" in gone.text
    await services.links.clicks.flush()
    assert await _stored_clicks(services, link["slug"]) == (5, 0)


async def test_raising_the_cap_reopens_the_link(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    slug = (await create_link(client, token, max_clicks=1))["slug"]
    assert (await follow(client, slug)).status_code == 302
    assert (await follow(client, slug)).status_code == 410
    url = f"/api/v1/links/{slug}"
    assert (await client.patch(url, json={"max_clicks": 2}, headers=bearer(token))).is_success
    assert (await follow(client, slug)).status_code == 302
    assert (await follow(client, slug)).status_code == 410
    assert (await client.patch(url, json={"max_clicks": None}, headers=bearer(token))).is_success
    assert (await follow(client, slug)).status_code == 302


async def test_disable_and_enable(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    slug = (await create_link(client, token))["slug"]
    assert (await follow(client, slug)).status_code == 302  # now cached
    url = f"/api/v1/links/{slug}"
    assert (await client.patch(url, json={"enabled": False}, headers=bearer(token))).is_success
    disabled = await follow(client, slug)
    assert disabled.status_code == 410 and "disabled" in disabled.text
    assert (await client.patch(url, json={"enabled": True}, headers=bearer(token))).is_success
    assert (await follow(client, slug)).status_code == 302
    created_off = await create_link(client, token, enabled=False)
    assert (await follow(client, created_off["slug"])).status_code == 410


async def test_expiry(client: httpx.AsyncClient, services: Services) -> None:
    token = await user_token(client)
    soon = utcnow() + timedelta(hours=1)
    link = await create_link(client, token, expires_at=soon.isoformat())
    assert link["expires_at"] is not None
    slug = link["slug"]
    assert (await follow(client, slug)).status_code == 302
    async with services.sessions() as db:
        row = await db.scalar(select(Link).where(Link.slug == slug))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    await services.links.forget(slug)
    expired = await follow(client, slug)
    assert expired.status_code == 410 and "expired" in expired.text
    assert (await client.get(f"/s/{slug}+")).status_code == 410
    later = (utcnow() + timedelta(days=1)).isoformat()
    url = f"/api/v1/links/{slug}"
    assert (await client.patch(url, json={"expires_at": later}, headers=bearer(token))).is_success
    assert (await follow(client, slug)).status_code == 302


async def test_password(client: httpx.AsyncClient, services: Services) -> None:
    link = await create_link(client, password="open sesame", title="Secret")
    assert link["has_password"] is True
    slug = link["slug"]
    form = await follow(client, slug)
    assert form.status_code == 200 and "Password needed" in form.text
    assert TARGET not in form.text
    preview = await client.get(f"/s/{slug}+")
    assert TARGET not in preview.text and "password-protected" in preview.text
    wrong = await follow(client, slug, **{"X-Link-Password": "nope"})
    assert wrong.status_code == 403 and TARGET not in wrong.text
    right = await follow(client, slug, **{"X-Link-Password": "open sesame"})
    assert right.status_code == 302 and right.headers["location"] == TARGET
    csrf = client.cookies["ml_csrf"]
    bad = await client.post(f"/s/{slug}", data={"password": "x", "csrf_token": csrf})
    assert bad.status_code == 403 and "Wrong password" in bad.text
    no_csrf = await client.post(f"/s/{slug}", data={"password": "open sesame"})
    assert no_csrf.status_code == 403
    good = await client.post(f"/s/{slug}", data={"password": "open sesame", "csrf_token": csrf})
    assert good.status_code == 303 and good.headers["location"] == TARGET
    await services.links.clicks.flush()
    assert sum(await _stored_clicks(services, slug)) == 2  # only the unlocked visits count


async def test_preview_qr_and_unknown(client: httpx.AsyncClient, live_server: str) -> None:
    link = await create_link(client, url="https://example.com/<b>x</b>", title="T")
    preview = await client.get(f"/s/{link['slug']}+")
    assert preview.status_code == 200
    assert "https://example.com/&lt;b&gt;x&lt;/b&gt;" in preview.text
    assert f'href="/s/{link["slug"]}"' in preview.text
    qr = await client.get(f"/s/{link['slug']}/qr.svg")
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.startswith("<svg") and "<path" in qr.text
    assert (await client.get(f"/s/{link['slug']}/qr.svg")).text == qr.text
    missing = await client.get("/s/nothing-here", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "No link" in missing.text
    assert (await client.get("/s/nothing-here/qr.svg")).status_code == 404
    assert (await client.get("/s/nothing-here+")).status_code == 404


async def test_clicks_on_deleted_links_do_not_block_the_batch(
    client: httpx.AsyncClient, services: Services
) -> None:
    kept = await create_link(client)
    dropped = await create_link(client)
    for link in (kept, dropped, kept):
        await follow(client, link["slug"])
    gone = await client.delete(
        f"/api/v1/links/{dropped['slug']}", params={"token": dropped["delete_token"]}
    )
    assert gone.status_code == 204
    assert await services.links.clicks.flush() == 3
    assert await _stored_clicks(services, kept["slug"]) == (2, 0)
    async with services.sessions() as db:
        kept_id = await db.scalar(select(Link.id).where(Link.slug == kept["slug"]))
        rows = list(await db.scalars(select(LinkStat)))
    assert {row.link_id for row in rows} == {kept_id}
    assert services.links.clicks.pending(kept_id or 0) == (0, 0)


async def test_a_failed_flush_keeps_the_clicks(
    client: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    slug = (await create_link(client))["slug"]
    for _ in range(3):
        await follow(client, slug)
    recorder = services.links.clicks
    working = recorder.sessions
    broken = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing-dir/none.db")
    recorder.sessions = make_session_factory(broken)
    try:
        with pytest.raises(OperationalError):
            await recorder.flush()
    finally:
        recorder.sessions = working
        await broken.dispose()
    await follow(client, slug)
    assert await recorder.flush() == 4
    assert await _stored_clicks(services, slug) == (4, 0)


async def test_shutdown_flushes_every_click(services: Services, tmp_path: Path) -> None:
    """A second process on the same database: its clicks are written by services.close()."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(services.settings, services=services)),
        base_url="http://shortener.test",
    ) as setup:
        slug = (await create_link(setup))["slug"]
    other = Services.build(services.settings)
    other.links.clicks.start()  # the periodic flush runs too; close() must not lose its share
    transport = httpx.ASGITransport(app=create_app(services.settings, services=other))
    async with httpx.AsyncClient(transport=transport, base_url="http://shortener.test") as http:
        responses = await asyncio.gather(*(follow(http, slug) for _ in range(BURST)))
    assert {r.status_code for r in responses} == {302}
    await other.close()
    assert await _stored_clicks(services, slug) == (BURST, 0)


async def test_a_capped_links_counter_lapses_in_time_and_counts_on_from_the_clicks(
    client: httpx.AsyncClient, services: Services
) -> None:
    slug = (await create_link(client, max_clicks=3))["slug"]
    assert (await follow(client, slug)).status_code == 302
    async with services.sessions() as db:
        link_id = await db.scalar(select(Link.id).where(Link.slug == slug))
    counter = f"link-clicks:{link_id}"
    # The counter expires (it stayed for ever, also for deleted links), later than the copy.
    left = await services.cache.ttl(counter)
    assert left is not None and left > services.settings.link_cache_seconds
    # Both lapse: the next load counts on from the clicks so far (1), not from zero.
    await services.cache.delete(counter)
    await services.cache.delete(f"link:{slug}")
    codes = [(await follow(client, slug)).status_code for _ in range(3)]
    assert codes == [302, 302, 410]
