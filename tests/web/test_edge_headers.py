"""Edge headers: a CSP on every page, framing refused except the embed, /metrics and /readyz."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from meatlizard.api.edge_headers import content_security_policy
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token

METRICS_TOKEN = "metrics-secret-0123456789"


def _local(app: FastAPI, client_host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, client=(client_host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/paste", "/links", "/nowhere"])
async def test_pages_send_a_content_security_policy(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_json_answers_carry_no_page_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert "content-security-policy" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_metrics_are_for_this_machine_by_default(app: FastAPI) -> None:
    async with _local(app, "127.0.0.1") as local, _local(app, "203.0.113.9") as remote:
        assert (await local.get("/metrics")).status_code == 200
        refused = await remote.get("/metrics")
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.json()["detail"]


async def test_metrics_token_opens_metrics_and_readyz_details(app: FastAPI) -> None:
    app.state.services.settings.metrics_token = SecretStr(METRICS_TOKEN)
    async with _local(app, "203.0.113.9") as remote, _local(app, "127.0.0.1") as local:
        assert (await local.get("/metrics")).status_code == 401  # a token is needed by all now
        assert (await remote.get("/metrics", headers=bearer("wrong"))).status_code == 401
        allowed = await remote.get("/metrics", headers=bearer(METRICS_TOKEN))
        assert allowed.status_code == 200
        assert "meatlizard_http_requests" in allowed.text
        ready = await remote.get("/readyz", headers=bearer(METRICS_TOKEN))
    assert set(ready.json()) == {"status", "checks", "inference"}


async def test_readyz_details_are_for_admins(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    member = await user_token(client)
    client.cookies.clear()  # logins set a session cookie; these calls choose their identity
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    assert (await client.get("/readyz", headers=bearer(member))).json() == {"status": "ready"}
    detailed = (await client.get("/readyz", headers=bearer(admin))).json()
    assert detailed["checks"] == {"database": "ok", "cache": "ok", "storage": "ok"}


async def test_only_the_embed_may_be_framed(services: Services) -> None:
    embed = content_security_policy(services.settings, embed=True)
    assert "frame-ancestors *" in embed and "script-src 'self'" in embed
    assert "frame-ancestors 'none'" in content_security_policy(services.settings)
