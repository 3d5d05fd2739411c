"""Anonymise, export and delete: no trace of the name is left anywhere."""

from __future__ import annotations

import io
import json
import zipfile

import httpx

from meatlizard.runtime import Services
from tests.files.helpers import create, stored_keys, upload
from tests.gdpr.helpers import dump_everything
from tests.helpers import PASSWORD, bearer, create_session, login, register
from tests.links.helpers import HUMAN

FILE_BYTES = bytes(range(256)) * 12_000  # 3 MiB, streamed into the export


async def _user_with_history(services: Services, client: httpx.AsyncClient, name: str) -> str:
    await register(client)  # the admin, so our user is an ordinary member
    await register(client, name)
    token = await login(client, name)
    session = await create_session(client, token, title=f"{name}'s chat")
    from meatlizard.auth import service as auth_service
    from meatlizard.chat import branches
    from meatlizard.chat import service as chat_service

    async with services.sessions() as db:
        user = await auth_service.get_by_username(db, username=name)
        assert user is not None
        chat = await chat_service.get_session(db, user=user, session_id=session["id"])
        shown = await chat_service.add_user_message(db, session=chat, content=f"hi, I am {name}")
        # An edited-away version: hidden from the conversation, still the user's data.
        await chat_service.add_user_message(
            db, session=chat, content=f"earlier draft by {name}", replaces=shown.id
        )
        await branches.show(db, session=chat, message_id=shown.id)
    await client.post(
        f"/api/v1/chat/sessions/{session['id']}/end",
        json={"save_transcript": True},
        headers=bearer(token),
    )
    await services.jobs.drain()
    paste = await client.post(
        "/api/v1/pastes",
        json={"content": f"notes by {name}", "title": f"{name} notes"},
        headers=bearer(token),
    )
    assert paste.status_code == 201, paste.text
    filed = await client.post(
        "/api/v1/reports",
        json={"content_type": "paste", "content_id": paste.json()["id"], "reason": f"{name} here"},
        headers=bearer(token),
    )
    assert filed.status_code == 201, filed.text
    await _links_and_files(services, client, token, name)
    return token


async def _links_and_files(
    services: Services, client: httpx.AsyncClient, token: str, name: str
) -> None:
    made = await client.post(
        "/api/v1/links",
        json={"url": f"https://example.com/{name}", "slug": f"{name}-home", "title": f"{name}'s"},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    followed = await client.get(
        f"/s/{name}-home", headers={**HUMAN, "Referer": f"https://{name}.example.org/"}
    )
    assert followed.status_code == 302
    await services.links.clicks.flush()
    await upload(client, token, FILE_BYTES, f"{name}.bin")
    unfinished = await create(client, token, 10, "draft.txt")
    assert unfinished.status_code == 201
    folder = await client.patch(
        f"/api/v1/files/{unfinished.headers['Location'].rsplit('/', 1)[-1]}",
        json={"folder": f"{name}/drafts"},
        headers=bearer(token),
    )
    assert folder.status_code == 200, folder.text
    await _transcoded_video(services, name)


async def _transcoded_video(services: Services, name: str) -> None:
    """A finished video of the user's: its row and renditions, as a transcode leaves them."""
    from meatlizard.auth import service as auth_service
    from meatlizard.videos.models import READY, Video
    from meatlizard.videos.service import prefix_of

    async with services.sessions() as db:
        user = await auth_service.get_by_username(db, username=name)
        assert user is not None
        video = Video(owner_id=user.id, title=f"{name} on holiday", status=READY)
        db.add(video)
        await db.commit()
        prefix = prefix_of(video.id)
    for key in ("hls/master.m3u8", "hls/360p/init.mp4", "poster.jpg"):
        await services.storage.put_bytes(f"{prefix}{key}", b"rendition bytes")


async def test_anonymize_leaves_no_trace_of_the_name(
    services: Services, client: httpx.AsyncClient
) -> None:
    name = "zelda_unique_name"
    token = await _user_with_history(services, client, name)
    assert name in await dump_everything(services)
    wrong = await client.post(
        "/api/v1/auth/me/anonymize", json={"password": "nope"}, headers=bearer(token)
    )
    assert wrong.status_code == 401
    response = await client.post(
        "/api/v1/auth/me/anonymize", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["anonymous_id"].startswith("anon-")
    assert report["sessions"] == 1
    assert report["messages_rewritten"] == 2  # the hidden version too
    assert report["transcripts_rewritten"] == 1
    assert report["tokens_revoked"] >= 1
    # links: the link and its referrer statistics row; files: a name and a folder
    assert report["rewritten"] == {
        "pastes": 1,
        "content_reports": 1,
        "links": 2,
        "files": 2,
        "videos": 1,
    }
    assert name not in await dump_everything(services)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_export_contains_account_chats_and_transcripts(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await _user_with_history(services, client, "export_me")
    response = await client.get("/api/v1/auth/me/export", headers=bearer(token))
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("meatlizard-export.json"))
    assert data["account"]["username"] == "export_me"
    [chat] = data["chat_sessions"]
    assert [m["content"] for m in chat["messages"]] == ["hi, I am export_me"]
    assert [m["content"] for m in chat["other_versions"]] == ["earlier draft by export_me"]
    names = archive.namelist()
    assert any(n.endswith("transcript.json") for n in names)
    assert any(n.endswith("transcript.csv") for n in names)
    assert data["pastes"][0]["content"] == "notes by export_me"
    assert data["content_reports"][0]["reason"] == "export_me here"
    [link] = data["links"]
    assert (link["slug"], link["url"], link["clicks"]) == (
        "export_me-home",
        "https://example.com/export_me",
        1,
    )
    assert {"kind": "referrer", "value": "export_me.example.org"} in [
        {"kind": s["kind"], "value": s["value"]} for s in link["stats"]
    ]
    done, draft = sorted(data["files"], key=lambda f: f["status"])
    assert (done["name"], done["size"]) == ("export_me.bin", len(FILE_BYTES))
    assert archive.read(done["in_zip"]) == FILE_BYTES
    assert archive.getinfo(done["in_zip"]).compress_type == zipfile.ZIP_STORED
    assert (draft["status"], draft["in_zip"]) == ("uploading", None)


async def test_delete_account_removes_rows_and_objects(
    services: Services, client: httpx.AsyncClient
) -> None:
    name = "delete_me_please"
    token = await _user_with_history(services, client, name)
    refused = await client.request(
        "DELETE", "/api/v1/auth/me", json={"password": "wrong"}, headers=bearer(token)
    )
    assert refused.status_code == 401
    response = await client.request(
        "DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == {
        "chat_sessions": 1,
        "transcripts": 1,
        "messages": 2,  # both versions of the prompt
        "pastes": 1,
        "links": 1,
        "files": 2,
        "videos": 1,
    }
    assert name not in await dump_everything(services)
    assert await services.storage.list("transcripts/") == []
    assert await stored_keys(services) == []  # file bytes, the unfinished upload, renditions
    assert (await client.get(f"/s/{name}-home", headers=HUMAN)).status_code == 404


async def test_the_only_admin_cannot_delete_themselves(client: httpx.AsyncClient) -> None:
    admin = await login(client, await register(client))
    response = await client.request(
        "DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=bearer(admin)
    )
    assert response.status_code == 409
    assert "only admin" in response.json()["detail"]
