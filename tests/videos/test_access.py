"""Visibility, editing, listing, captions and views through the API and pages."""

from __future__ import annotations

import httpx
import pytest

from tests.files.helpers import upload
from tests.helpers import bearer, user_token

pytestmark = pytest.mark.parametrize("settings_overrides", [{"video_transcode_in_web": False}])
VTT = b"WEBVTT\n\n00:00.000 --> 00:02.000\nHello\n\n00:02.000 --> 00:04.000\nWorld\n"


async def queued_video(client: httpx.AsyncClient, token: str, **body: object) -> str:
    """Make a (never transcoded) video from a tiny upload; return its id."""
    file_id = await upload(client, token, b"not really a video", "holiday.mp4")
    answer = await client.post(
        "/api/v1/videos", json={"file_id": file_id, **body}, headers=bearer(token)
    )
    assert answer.status_code == 202, answer.text
    video_id: str = answer.json()["id"]
    return video_id


async def test_private_video_is_hidden_from_others(client: httpx.AsyncClient) -> None:
    owner, other = await user_token(client), await user_token(client)
    video_id = await queued_video(client, owner, visibility="private", title="Secret")
    mine = await client.get(f"/api/v1/videos/{video_id}", headers=bearer(owner))
    assert mine.status_code == 200 and mine.json()["title"] == "Secret"
    for token in (other, None):
        headers = bearer(token) if token else {}
        client.cookies.clear()
        for path in (
            f"/api/v1/videos/{video_id}",
            f"/v/{video_id}",
            f"/v/{video_id}/embed",
            f"/v/{video_id}/hls/master.m3u8",
            f"/v/{video_id}/poster.jpg",
        ):
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 404, path
        listed = await client.get("/api/v1/videos", headers=headers)
        assert video_id not in [v["id"] for v in listed.json()]
        patched = await client.patch(
            f"/api/v1/videos/{video_id}", json={"title": "x"}, headers=headers
        )
        assert patched.status_code in (401, 404)
        deleted = await client.delete(f"/api/v1/videos/{video_id}", headers=headers)
        assert deleted.status_code in (401, 404)
    mine_listed = await client.get("/api/v1/videos?mine=true", headers=bearer(owner))
    assert [v["id"] for v in mine_listed.json()] == [video_id]


async def test_list_search_edit_and_pages(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    first = await queued_video(client, token, title="Raid night highlights", visibility="public")
    await queued_video(client, token, title="Cooking stream", visibility="public")
    found = (await client.get("/api/v1/videos?q=raid")).json()
    assert [v["id"] for v in found] == [first]
    assert found[0]["title"] == "Raid night highlights" and found[0]["status"] == "queued"
    edited = await client.patch(
        f"/api/v1/videos/{first}",
        json={"title": "Raid night", "description": "GG"},
        headers=bearer(token),
    )
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["description"]) == ("Raid night", "GG")
    bad = await client.patch(f"/api/v1/videos/{first}", json={"title": ""}, headers=bearer(token))
    assert bad.status_code == 422
    page = await client.get("/videos?q=raid")
    assert "Raid night" in page.text and "Cooking" not in page.text
    empty = await client.get("/videos?q=zzz")
    assert "No video title matches" in empty.text
    player = await client.get(f"/v/{first}")
    assert player.status_code == 200 and 'id="transcode"' in player.text
    retry = await client.post(f"/api/v1/videos/{first}/retry", headers=bearer(token))
    assert retry.status_code == 409 and "only a failed" in retry.json()["detail"]


async def test_captions_are_validated_and_served(client: httpx.AsyncClient) -> None:
    token, other = await user_token(client), await user_token(client)
    video_id = await queued_video(client, token)
    url = f"/api/v1/videos/{video_id}/captions"
    saved = await client.put(f"{url}/en?label=English", content=VTT, headers=bearer(token))
    assert saved.status_code == 200, saved.text
    assert (saved.json()["lang"], saved.json()["label"]) == ("en", "English")
    served = await client.get(f"/v/{video_id}/captions/en.vtt")
    assert served.content == VTT and served.headers["content-type"].startswith("text/vtt")
    info = (await client.get(f"/api/v1/videos/{video_id}")).json()
    assert [c["lang"] for c in info["captions"]] == ["en"]

    cases = [
        ("en", b"just some text\n", 422, "must start with the line 'WEBVTT'"),
        ("en", b"WEBVTT\n\n00:01.000 -> 00:02.000\nhi\n", 422, "no cues"),
        ("en", b"WEBVTT\n\n00:01.000 --> 00:00.500\nhi\n", 422, "line 3: the cue ends"),
        ("en", b"WEBVTT\n\n1:2 --> 00:02.000\nhi\n", 422, "line 3: bad cue timing"),
        ("en", b"WEBVTT\n\n\xff\xfe", 422, "must be UTF-8"),
        ("english!", VTT, 422, "not a language tag"),
        ("en", b"WEBVTT\n" + b"x" * 600_000, 413, "limit"),
    ]
    for lang, body, code, detail in cases:
        refused = await client.put(f"{url}/{lang}", content=body, headers=bearer(token))
        assert refused.status_code == code, (body[:30], refused.text)
        assert detail in refused.json()["detail"]
    assert (await client.get(f"/v/{video_id}/captions/en.vtt")).content == VTT

    foreign = await client.put(f"{url}/fr", content=VTT, headers=bearer(other))
    assert foreign.status_code == 404
    removed = await client.delete(f"{url}/en", headers=bearer(token))
    assert removed.status_code == 204
    assert (await client.get(f"/v/{video_id}/captions/en.vtt")).status_code == 404


async def test_views_count_once_per_viewer_session(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    video_id = await queued_video(client, token)
    client.cookies.clear()
    await client.get(f"/v/{video_id}")  # the page hands out the viewer cookie
    assert "ml_viewer" in client.cookies
    first = await client.post(f"/v/{video_id}/view")
    second = await client.post(f"/v/{video_id}/view")
    assert first.json() == {"counted": True, "view_count": 1}
    assert second.json() == {"counted": False, "view_count": 1}
    client.cookies.clear()
    await client.get(f"/v/{video_id}")
    third = await client.post(f"/v/{video_id}/view")
    assert third.json() == {"counted": True, "view_count": 2}


async def test_my_stuff_lists_my_videos(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)  # the first account is an admin
    owner, other = await user_token(client), await user_token(client)
    mine = await queued_video(client, owner, title="My raid clip", visibility="private")
    theirs = await queued_video(client, other, title="Someone else's clip")
    page = (await client.get("/mine", headers=bearer(owner))).text
    assert 'id="mine-videos"' in page
    assert f'<a href="/v/{mine}">My raid clip</a>' in page
    assert "private" in page and "queued" in page
    assert theirs not in page and "Someone else" not in page
    everyone = (await client.get("/mine?everyone=true", headers=bearer(admin))).text
    assert f"/v/{mine}" in everyone and f"/v/{theirs}" in everyone
    empty = (await client.get("/mine", headers=bearer(await user_token(client)))).text
    assert "No videos yet" in empty and 'id="mine-videos"' not in empty
