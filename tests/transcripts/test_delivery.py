"""Telling the user: web notification with a download button, failures, Discord hook, expiry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from meatlizard.runtime import Services
from meatlizard.transcripts import service as transcripts
from meatlizard.transcripts.delivery import TranscriptFailed, TranscriptReady, links
from tests.helpers import bearer, create_session, user_token


class Recorder:
    """A delivery that keeps what it is told (as the Discord one would send it)."""

    def __init__(self) -> None:
        self.events: list[TranscriptReady | TranscriptFailed] = []

    async def ready(self, event: TranscriptReady) -> None:
        self.events.append(event)

    async def failed(self, event: TranscriptFailed) -> None:
        self.events.append(event)


class Broken:
    """A delivery that always fails; others must still be told."""

    async def ready(self, event: TranscriptReady) -> None:
        raise RuntimeError("discord is down")

    async def failed(self, event: TranscriptFailed) -> None:
        raise RuntimeError("discord is down")


async def _chat(client: httpx.AsyncClient, token: str) -> str:
    session = await create_session(client, token, save_transcript=True)
    return str(session["id"])


async def _notes(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/notifications", headers=bearer(token))
    assert response.status_code == 200, response.text
    notes: list[dict[str, Any]] = response.json()
    return notes


async def test_ready_transcript_becomes_a_web_notification_with_a_download(
    services: Services, client: httpx.AsyncClient
) -> None:
    recorder = Recorder()
    services.transcript_deliveries[:0] = [Broken(), recorder]
    token = await user_token(client)
    session_id = await _chat(client, token)
    await client.post(f"/api/v1/chat/sessions/{session_id}/end", json={}, headers=bearer(token))
    await services.jobs.drain()

    [event] = recorder.events
    assert isinstance(event, TranscriptReady)
    assert event.permanent_path == f"transcripts/{session_id}/"
    assert event.json_key == f"transcripts/{session_id}/transcript.json"
    [note] = await _notes(client, token)
    assert note["kind"] == "transcript.ready"
    assert note["link_label"] == "Download transcript"
    download = await client.get(note["link"], headers=bearer(token), follow_redirects=True)
    assert download.status_code == 200
    assert json.loads(download.content)["session_id"] == session_id

    page = await client.get("/chat", headers=bearer(token))
    assert 'id="notifications"' in page.text and "/static/js/notifications.js" in page.text
    other = await user_token(client)
    refused = await client.post(f"/api/v1/notifications/{note['id']}/read", headers=bearer(other))
    assert refused.status_code == 404
    read = await client.post(f"/api/v1/notifications/{note['id']}/read", headers=bearer(token))
    assert read.status_code == 204
    assert await _notes(client, token) == []


async def test_final_failure_tells_the_user(
    services: Services, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await user_token(client)
    session_id = await _chat(client, token)

    async def storage_down(key: str, data: bytes, **kw: Any) -> int:
        raise OSError("storage unreachable")

    monkeypatch.setattr(services.storage, "put_bytes", storage_down)
    recorder = Recorder()
    ended = await client.post(
        f"/api/v1/chat/sessions/{session_id}/end",
        json={"save_transcript": False},  # archived below, without the backoff delays
        headers=bearer(token),
    )
    assert ended.status_code == 200
    result = await transcripts.archive_session(
        services.sessions,
        services.storage,
        session_id,
        deliveries=[recorder, *services.transcript_deliveries],
        retry_base_seconds=0,
    )
    assert result is None
    [event] = recorder.events
    assert isinstance(event, TranscriptFailed) and "storage unreachable" in event.error
    kinds = [n["kind"] for n in await _notes(client, token)]
    assert kinds == ["transcript.failed"]
    assert await services.storage.list("transcripts/") == []


async def test_admin_ending_an_opted_in_chat_writes_its_transcript(
    services: Services, client: httpx.AsyncClient
) -> None:
    admin = await user_token(client)
    token = await user_token(client)
    session_id = await _chat(client, token)
    ended = await client.post(f"/api/v1/admin/sessions/{session_id}/end", headers=bearer(admin))
    assert ended.status_code == 200
    await services.jobs.drain()
    detail = await client.get(f"/api/v1/chat/sessions/{session_id}", headers=bearer(token))
    assert detail.json()["archive_status"] == "archived"
    assert [n["kind"] for n in await _notes(client, token)] == ["transcript.ready"]


async def test_presigned_link_works_then_expires(
    services: Services, client: httpx.AsyncClient
) -> None:
    if not services.settings.s3_bucket_name:
        pytest.skip("pre-signed links exist on S3 only; local storage streams the file")
    token = await user_token(client)
    session_id = await _chat(client, token)
    await client.post(f"/api/v1/chat/sessions/{session_id}/end", json={}, headers=bearer(token))
    await services.jobs.drain()
    async with services.sessions() as db:
        record = await transcripts.get_transcript(db, session_id=session_id)
    assert record is not None
    event = TranscriptReady(session_id, 0, "", None, record.json_key, record.csv_key, 0)
    day = await links(services.storage, event, 24 * 3600)
    brief = await links(services.storage, event, 1)
    async with httpx.AsyncClient() as outside:
        assert (await outside.get(day["csv"])).status_code == 200
        for _ in range(100):  # hang guard only: wait until the one-second link has lapsed
            expired = await outside.get(brief["json"])
            if expired.status_code != 200:
                break
            await asyncio.sleep(0.1)
        assert expired.status_code == 403
        assert (await outside.get(day["json"])).status_code == 200
