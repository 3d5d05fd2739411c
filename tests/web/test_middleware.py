"""The request middleware: safety headers, the request counter and the access log."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from meatlizard.core.metrics import HTTP_REQUESTS


def _count(method: str, status: int) -> float:
    value: float = HTTP_REQUESTS.labels(method=method, status=str(status))._value.get()
    return value


def _local(app: FastAPI, **options: bool) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, **options)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_every_answer_gets_safety_headers_once(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/", "/api/v1/no-such-route", "/static/css/theme.css"):
        response = await client.get(path)
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], path
        assert response.headers.get_list("referrer-policy") == ["same-origin"], path


async def test_an_answer_keeps_its_own_referrer_policy(app: FastAPI) -> None:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"Referrer-Policy", b"no-referrer")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    app.mount("/own-policy", answer)
    async with _local(app) as http:
        response = await http.get("/own-policy/")
    assert response.status_code == 200, response.text
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_requests_are_counted_by_method_and_status(client: httpx.AsyncClient) -> None:
    ok, missing = _count("GET", 200), _count("GET", 404)
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/api/v1/no-such-route")
    assert _count("GET", 200) == ok + 2
    assert _count("GET", 404) == missing + 1


async def test_access_log_has_status_duration_and_client(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async with _local(app) as http:
        with caplog.at_level(logging.INFO, logger="meatlizard.access"):
            await http.get("/healthz")
    [record] = [r for r in caplog.records if r.name == "meatlizard.access"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "GET /healthz 200"
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert record.client == "127.0.0.1"  # type: ignore[attr-defined]


async def test_a_crash_is_counted_and_logged_as_500(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def crash() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/crash", crash)
    before = _count("GET", 500)
    async with _local(app, raise_app_exceptions=False) as http:
        with caplog.at_level(logging.INFO, logger="meatlizard.access"):
            response = await http.get("/crash")
    assert response.status_code == 500
    assert _count("GET", 500) == before + 1
    assert "GET /crash 500" in [r.getMessage() for r in caplog.records]
