"""Liveness, readiness and metrics on both backend families."""

from __future__ import annotations

import httpx

from tests.fixtures.backends import Backend
from tests.helpers import bearer, user_token


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_every_dependency(client: httpx.AsyncClient, backend: Backend) -> None:
    response = await client.get("/readyz", headers=bearer(await user_token(client)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checks"] == {"database": "ok", "cache": "ok", "storage": "ok"}
    assert body["inference"]["state"] == "fallback"  # these tests run without the model


async def test_readyz_reports_a_broken_database(client: httpx.AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    admin = bearer(await user_token(client))
    client.cookies.clear()  # the login's session cookie would make every call an admin's
    await services.engine.dispose()
    original = services.engine
    from meatlizard.core.db import make_engine

    services.engine = make_engine("sqlite+aiosqlite:////nonexistent-dir/x.db")
    try:
        response = await client.get("/readyz", headers=admin)
        anonymous = await client.get("/readyz")
    finally:
        await services.engine.dispose()
        services.engine = original
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error:")
    assert (anonymous.status_code, anonymous.json()) == (503, {"status": "unavailable"})


async def test_metrics_parse_with_the_prometheus_parser(client: httpx.AsyncClient) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert "meatlizard_http_requests" in families
    assert families["meatlizard_uptime_seconds"].samples[0].value > 0
    assert families["meatlizard_inference_ready"].samples[0].value == 0  # fallback here
    assert "meatlizard_chat_tokens_per_second" in families
