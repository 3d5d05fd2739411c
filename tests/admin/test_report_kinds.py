"""Links and files are reportable: takedowns disable links, remove files, audit and notify."""

from __future__ import annotations

import re

import httpx

from meatlizard.runtime import Services
from tests.files.helpers import stored_keys, upload
from tests.helpers import PASSWORD, bearer, register, user_token
from tests.links.helpers import create_link, follow

TOKEN_RE = re.compile(r'action="/report".*?name="csrf_token" value="([^"]+)"', re.S)


async def _report(client: httpx.AsyncClient, token: str, kind: str, content_id: str) -> int:
    filed = await client.post(
        "/api/v1/reports",
        json={"content_type": kind, "content_id": content_id, "reason": "abusive"},
        headers=bearer(token),
    )
    assert filed.status_code == 201, filed.text
    return int(filed.json()["id"])


async def _take_down(client: httpx.AsyncClient, admin: str, report_id: int) -> None:
    taken = await client.post(f"/api/v1/admin/reports/{report_id}/takedown", headers=bearer(admin))
    assert taken.status_code == 200, taken.text
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert audit[0]["action"] == "content.takedown"


async def test_link_takedown_disables_it_for_good(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    owner = await user_token(client)
    reporter = await user_token(client)
    link = await create_link(client, owner)
    assert (await follow(client, link["slug"])).status_code == 302  # now cached
    await _take_down(client, admin, await _report(client, reporter, "link", link["slug"]))
    gone = await follow(client, link["slug"])
    assert gone.status_code == 410
    assert "taken down by the moderators" in gone.text
    assert "taken down" in (await client.get(f"/s/{link['slug']}+")).text
    enable = await client.patch(
        f"/api/v1/links/{link['slug']}", json={"enabled": True}, headers=bearer(owner)
    )
    assert enable.status_code == 403 and "stays disabled" in enable.json()["detail"]
    read = (await client.get(f"/api/v1/links/{link['slug']}", headers=bearer(owner))).json()
    assert read["enabled"] is False and read["taken_down"] is True
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert audit[0]["target"] == f"link:{link['slug']}"
    notes = (await client.get("/api/v1/notifications", headers=bearer(owner))).json()
    assert any("taken down" in n["message"] for n in notes)


async def test_file_takedown_removes_row_and_object(
    client: httpx.AsyncClient, services: Services
) -> None:
    admin = await user_token(client)
    owner = await user_token(client)
    file_id = await upload(client, owner, b"bad bytes", "bad.txt")
    assert (await client.get(f"/f/{file_id}/raw")).status_code == 200
    missing = await client.post(
        "/api/v1/reports",
        json={"content_type": "file", "content_id": "nope", "reason": "abusive"},
        headers=bearer(admin),
    )
    assert missing.status_code == 404
    await _take_down(client, admin, await _report(client, admin, "file", file_id))
    assert (await client.get(f"/f/{file_id}/raw")).status_code == 404
    assert (await client.get(f"/f/{file_id}")).status_code == 404
    assert (await client.get("/api/v1/files", headers=bearer(owner))).json() == []
    assert await stored_keys(services) == []
    notes = (await client.get("/api/v1/notifications", headers=bearer(owner))).json()
    assert any("removed by the moderators" in n["message"] for n in notes)
    page = await client.get("/admin", headers=bearer(admin))
    assert "No open reports." in page.text


async def test_report_form_on_file_link_and_paste_pages(
    client: httpx.AsyncClient, live_server: str
) -> None:
    admin = await user_token(client)
    owner = await user_token(client)
    file_id = await upload(client, owner, b"shared", "shared.txt")
    link = await create_link(client, owner)
    paste = await client.post("/api/v1/pastes", json={"content": "hi"}, headers=bearer(owner))
    pages = {
        "file": (f"/f/{file_id}", file_id),
        "link": (f"/s/{link['slug']}+", link["slug"]),
        "paste": (f"/p/{paste.json()['id']}", paste.json()["id"]),
    }
    async with httpx.AsyncClient(base_url=live_server) as browser:
        for kind, (page, content_id) in pages.items():  # anonymous: told to log in
            shown = await browser.get(page)
            assert "<summary>Report</summary>" in shown.text, kind
            match = TOKEN_RE.search(shown.text)
            assert match is not None, kind
            form = {"csrf_token": match.group(1), "content_type": kind, "content_id": content_id}
            refused = await browser.post("/report", data={**form, "reason": "spam", "back": page})
            assert refused.status_code == 401
            assert "Log in first" in refused.text
            assert f'href="/login?next={page.replace("+", "%2B")}"' in refused.text
        name = await register(browser)
        login = await browser.post(
            "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
        )
        assert login.status_code == 200
        for kind, (page, content_id) in pages.items():
            shown = await browser.get(page)
            match = TOKEN_RE.search(shown.text)
            assert match is not None, kind
            form = {"csrf_token": match.group(1), "content_type": kind, "content_id": content_id}
            sent = await browser.post(
                "/report", data={**form, "reason": f"bad {kind}", "back": page}
            )
            assert sent.status_code == 201, sent.text
            assert "Thank you" in sent.text and f'href="{page}"' in sent.text
        short = await browser.post("/report", data={**form, "reason": "x"})
        assert short.status_code == 422
        gone = await browser.post(
            "/report", data={**form, "content_id": "nope", "reason": "spam", "back": "//evil.test"}
        )
        assert gone.status_code == 404 and 'href="/">Back' in gone.text
        forged = await browser.post("/report", data={**form, "csrf_token": "x", "reason": "spam"})
        assert forged.status_code == 403
    listed = (await client.get("/api/v1/admin/reports?status=open", headers=bearer(admin))).json()
    assert sorted(r["reason"] for r in listed) == ["bad file", "bad link", "bad paste"]


async def test_video_takedown_hides_it_then_removes_renditions(
    client: httpx.AsyncClient, services: Services
) -> None:
    from meatlizard.videos.models import READY, Video
    from meatlizard.videos.service import prefix_of

    admin = await user_token(client)
    owner = await user_token(client)
    me = (await client.get("/api/v1/auth/me", headers=bearer(owner))).json()
    async with services.sessions() as db:
        video = Video(owner_id=me["id"], title="clip", status=READY)
        db.add(video)
        await db.commit()
        video_id = video.id
    await services.storage.put_bytes(f"{prefix_of(video_id)}hls/master.m3u8", b"#EXTM3U\n")
    assert (await client.get(f"/api/v1/videos/{video_id}")).status_code == 200
    await _take_down(client, admin, await _report(client, admin, "video", video_id))
    assert (await client.get(f"/api/v1/videos/{video_id}")).status_code == 404
    assert (await client.get(f"/v/{video_id}/hls/master.m3u8")).status_code == 404
    assert (await client.get("/api/v1/videos?mine=true", headers=bearer(owner))).json() == []
    assert await services.storage.list(prefix_of(video_id)) == []
    async with services.sessions() as db:
        assert await db.get(Video, video_id) is None
    notes = (await client.get("/api/v1/notifications", headers=bearer(owner))).json()
    assert any("removed by the moderators" in n["message"] for n in notes)


async def test_a_taken_down_slug_cannot_be_deleted_and_made_again(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_token(client)
    owner = await user_token(client)
    reporter = await user_token(client)
    link = await create_link(client, owner, slug="free-stuff")
    await _take_down(client, admin, await _report(client, reporter, "link", link["slug"]))
    deleted = await client.delete(f"/api/v1/links/{link['slug']}", headers=bearer(owner))
    assert deleted.status_code == 204
    again = await client.post(
        "/api/v1/links",
        json={"url": "https://example.com/again", "slug": "free-stuff"},
        headers=bearer(owner),
    )
    assert again.status_code == 409, again.text
    assert "taken down" in again.json()["detail"]
    assert (await follow(client, "free-stuff")).status_code == 404
    other = await create_link(client, owner, slug="other-stuff")  # other slugs are fine
    assert other["slug"] == "other-stuff"
