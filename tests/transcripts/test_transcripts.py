"""Opt-in transcripts: exact JSON keys, CSV that survives a round trip, nothing without opt-in."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import httpx
import pytest

from meatlizard.runtime import Services
from meatlizard.transcripts import service as transcripts
from tests.helpers import bearer, create_session, user_token

TRICKY = 'commas, "quotes" and\nnew lines — ünïcode ✓'
JSON_KEYS = [
    "session_id",
    "user_id",
    "username",
    "discord_channel_id",
    "start_time_utc",
    "end_time_utc",
    "system_prompt",
    "model_parameters_used",
    "message_count",
    "messages",
    "other_versions",  # earlier answers and edited-away prompts, beside the shown branch
]


async def _chat(services: Services, client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    session = await create_session(client, token, system_prompt="be brief", temperature=0.3)
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    from meatlizard.auth.models import User
    from meatlizard.chat import service as chat_service

    async with services.sessions() as db:
        user = await db.get(User, me["id"])
        assert user is not None
        chat = await chat_service.get_session(db, user=user, session_id=session["id"])
        await chat_service.add_user_message(db, session=chat, content=TRICKY)
    return session


async def _end(client: httpx.AsyncClient, token: str, session_id: str, *, save: bool) -> None:
    response = await client.post(
        f"/api/v1/chat/sessions/{session_id}/end",
        json={"save_transcript": save},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text


async def _transcript(
    client: httpx.AsyncClient, token: str, session_id: str, fmt: str
) -> httpx.Response:
    # The transcript is written in the background; poll as a user would (hang guard only).
    for _ in range(200):
        response = await client.get(
            f"/api/v1/chat/sessions/{session_id}/transcript?format={fmt}",
            headers=bearer(token),
            follow_redirects=True,
        )
        if response.status_code != 404 or "still being written" not in response.text:
            return response
        await asyncio.sleep(0.05)
    raise AssertionError("transcript never appeared")


async def test_saved_transcript_has_exact_fields_and_round_trips(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await user_token(client)
    session = await _chat(services, client, token)
    ended = await client.post(
        f"/api/v1/chat/sessions/{session['id']}/end",
        json={"save_transcript": True},
        headers=bearer(token),
    )
    assert ended.json()["archive_status"] == "archiving"
    as_json = await _transcript(client, token, session["id"], "json")
    assert as_json.status_code == 200, as_json.text
    data = json.loads(as_json.content)
    assert list(data) == JSON_KEYS
    assert data["session_id"] == session["id"]
    assert data["discord_channel_id"] is None
    assert data["model_parameters_used"] == {"model_alias": "smollm2", "temperature": 0.3}
    assert data["message_count"] == 1
    assert list(data["messages"][0]) == ["message_id", "timestamp_utc", "sender", "content"]
    assert data["messages"][0]["content"] == TRICKY
    assert data["start_time_utc"].endswith("Z") and data["end_time_utc"].endswith("Z")
    assert data["other_versions"] == []

    as_csv = await _transcript(client, token, session["id"], "csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["timestamp_utc", "sender", "content"]
    assert rows[1][2] == TRICKY
    assert rows[1][1] == data["username"]

    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert detail["archive_status"] == "archived"


async def test_without_opt_in_nothing_is_written(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await user_token(client)
    session = await _chat(services, client, token)
    await _end(client, token, session["id"], save=False)
    await services.jobs.drain()
    response = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/transcript", headers=bearer(token)
    )
    assert response.status_code == 404
    assert "no transcript" in response.json()["detail"]
    assert await services.storage.list("transcripts/") == []


async def test_presigned_link_on_s3_and_direct_download_locally(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await user_token(client)
    session = await _chat(services, client, token)
    await _end(client, token, session["id"], save=True)
    await services.jobs.drain()
    response = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/transcript", headers=bearer(token)
    )
    if services.settings.s3_bucket_name:
        assert response.status_code == 307
        link = response.headers["location"]
        assert "X-Amz-Expires=86400" in link
        async with httpx.AsyncClient() as outside:  # no cookies, no token: the link suffices
            fetched = await outside.get(link)
        assert fetched.status_code == 200
        assert json.loads(fetched.content)["session_id"] == session["id"]
    else:
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]


async def test_failed_upload_is_retried_then_reported_with_nothing_left(
    services: Services, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await user_token(client)
    session = await _chat(services, client, token)
    calls: list[str] = []
    real_put = services.storage.put_bytes

    async def csv_upload_breaks(key: str, data: bytes, **kw: Any) -> int:
        calls.append(key)
        if key.endswith(".csv"):
            raise OSError("disk full")  # fault injection: the second object cannot be stored
        return await real_put(key, data, **kw)

    monkeypatch.setattr(services.storage, "put_bytes", csv_upload_breaks)
    await _end(client, token, session["id"], save=False)
    record = await transcripts.archive_session(
        services.sessions, services.storage, session["id"], retry_base_seconds=0
    )
    assert record is None
    assert len([c for c in calls if c.endswith(".csv")]) == transcripts.ATTEMPTS
    assert await services.storage.list("transcripts/") == []  # the JSON was removed again
    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert detail["archive_status"] == "failed"
    gone = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/transcript", headers=bearer(token)
    )
    assert "failed" in gone.json()["detail"]


async def test_chat_page_offers_the_download_and_user_default_applies(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await user_token(client)
    changed = await client.patch(
        "/api/v1/auth/me", json={"transcripts_default": True}, headers=bearer(token)
    )
    assert changed.json()["transcripts_default"] is True
    session = await _chat(services, client, token)
    assert session["save_transcript"] is True  # from the user's default
    await client.post(f"/api/v1/chat/sessions/{session['id']}/end", json={}, headers=bearer(token))
    await services.jobs.drain()
    page = await client.get(f"/chat/{session['id']}", headers=bearer(token))
    assert "This chat has ended." in page.text
    assert f"/api/v1/chat/sessions/{session['id']}/transcript?format=csv" in page.text
    assert 'id="composer" class="composer" hidden' in page.text


async def test_transcript_holds_the_shown_branch_and_every_other_version(
    services: Services, client: httpx.AsyncClient
) -> None:
    from meatlizard.auth.models import User
    from meatlizard.chat import branches
    from meatlizard.chat import service as chat_service
    from meatlizard.chat.models import MessageStatus

    token = await user_token(client)
    session = await create_session(client, token)
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    async with services.sessions() as db:
        user = await db.get(User, me["id"])
        assert user is not None
        chat = await chat_service.get_session(db, user=user, session_id=session["id"])
        prompt = await chat_service.add_user_message(db, session=chat, content="hi")
        answers = [
            await chat_service.add_assistant_message(
                db,
                session=chat,
                content=text,
                status=MessageStatus.COMPLETE,
                model_alias="smollm2",
                is_fallback=False,
                token_count=1,
                tokens_per_second=1.0,
                prompt_id=prompt.id,
            )
            for text in ("old answer", "new answer")
        ]
        await branches.show(db, session=chat, message_id=answers[0].id)
    await _end(client, token, session["id"], save=True)
    data = json.loads((await _transcript(client, token, session["id"], "json")).content)
    assert [m["content"] for m in data["messages"]] == ["hi", "old answer"]
    assert data["message_count"] == 2
    assert data["other_versions"] == [
        {
            "message_id": answers[1].id,
            "parent_message_id": prompt.id,
            "timestamp_utc": data["other_versions"][0]["timestamp_utc"],
            "sender": "assistant",
            "content": "new answer",
        }
    ]
    as_csv = await _transcript(client, token, session["id"], "csv")
    assert "new answer" not in as_csv.content.decode("utf-8-sig")
