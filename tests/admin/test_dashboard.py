"""Dashboard numbers and charts, and the Prometheus export of the same metrics."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from meatlizard.auth.models import User
from meatlizard.chat import service as chat_service
from meatlizard.chat.models import MessageStatus
from meatlizard.core.db import utcnow
from meatlizard.relay.models import WorkerMetric
from meatlizard.runtime import Services
from tests.helpers import bearer, create_session, user_token


async def _activity(services: Services, client: httpx.AsyncClient, token: str) -> None:
    session = await create_session(client, token)
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    async with services.sessions() as db:
        user = await db.get(User, me["id"])
        assert user is not None
        chat = await chat_service.get_session(db, user=user, session_id=session["id"])
        await chat_service.add_user_message(db, session=chat, content="hello")
        await chat_service.add_assistant_message(
            db,
            session=chat,
            content="hi",
            status=MessageStatus.COMPLETE,
            model_alias="smollm2",
            is_fallback=False,
            token_count=10,
            tokens_per_second=42.5,
        )
        now = utcnow()
        for minutes, utilisation in ((20, 30.0), (10, 55.0), (0, 87.0)):
            db.add(
                WorkerMetric(
                    worker_id="gpu-box-1",
                    at=now - timedelta(minutes=minutes),
                    is_online=True,
                    busy=False,
                    tokens_per_second=31.0 + minutes,
                    gpu_utilization=utilisation,
                    gpu_memory_free=2048.0,
                    gpu_memory_used=6144.0,
                    gpu_temperature=61.0,
                )
            )
        await db.commit()
    await services.storage.put_bytes("files/one.bin", b"x" * 2048)


async def test_metrics_export_sessions_workers_and_counters(
    services: Services, client: httpx.AsyncClient
) -> None:
    token = await user_token(client)
    await _activity(services, client, token)
    response = await client.get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["meatlizard_active_chat_sessions"].samples[0].value == 1
    assert families["meatlizard_requests_enabled"].samples[0].value == 1
    gpu = {s.labels["stat"]: s.value for s in families["meatlizard_worker_gpu"].samples}
    assert gpu == {
        "utilization": 87.0,
        "memory_free": 2048.0,
        "memory_used": 6144.0,
        "temperature": 61.0,
    }
    [speed] = families["meatlizard_worker_tokens_per_second"].samples
    assert speed.labels == {"worker": "gpu-box-1"} and speed.value == 31.0
    for name in ("meatlizard_redirects", "meatlizard_uploads", "meatlizard_uploaded_bytes"):
        assert name in families


async def test_dashboard_shows_charts_workers_storage_and_named_actors(
    services: Services, client: httpx.AsyncClient
) -> None:
    admin_name = "boss_of_lizards"
    admin = await user_token(client, admin_name)
    member = await user_token(client)
    await _activity(services, client, member)
    await client.put("/api/v1/admin/requests", json={"enabled": True}, headers=bearer(admin))

    refused = await client.get("/admin", headers=bearer(member))
    assert refused.status_code == 403
    page = (await client.get("/admin", headers=bearer(admin))).text
    assert len(re.findall(r"<svg ", page)) == 4  # answers, tokens/s, worker tokens/s, worker GPU
    # Each chart states its latest value, range and span in text and in its accessible name.
    assert "Worker gpu-box-1: GPU utilisation · latest 87 %, min 30 %, max 87 %" in page
    assert "Model tokens/s, hourly mean (24 h) · latest 42.5 tok/s" in page
    assert (
        'aria-label="Answers per hour (24 h): latest 1, min 0, max 1, from 24 h ago to now"' in page
    )
    assert '<div class="chart-y" aria-hidden="true"><span>87 %</span><span>0 %</span></div>' in page
    assert re.search(r'<div class="chart-x" aria-hidden="true"><span>\d\d:\d\d</span>', page)
    assert "<polyline" in page and '<script src="http' not in page  # drawn inline, no CDN
    assert re.search(r"<code>files/</code></td><td>1</td><td>2.0 KiB", page)
    assert '<strong id="active-sessions">1</strong>' in page
    assert f'<td>requests.enable</td><td data-label="by">{admin_name}</td>' in page
    assert "How to restore a backup" in page


async def test_admin_metrics_api_is_admin_only(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    member = await user_token(client)
    assert (await client.get("/api/v1/admin/metrics", headers=bearer(member))).status_code == 403
    body = (await client.get("/api/v1/admin/metrics", headers=bearer(admin))).json()
    assert "inference" in body and "worker_metrics" in body
