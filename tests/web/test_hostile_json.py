"""Hostile JSON bodies and oversized numbers get a precise 4xx in one error shape, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import bearer, register, user_token

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
BROKEN_BODIES = {
    "empty": b"",
    "unparsable": b"{bad",
    "invalid utf-8": b'{"username": "\xff\xfe", "password": "x"}',
    "lone surrogate": b'{"username": "\\ud800", "password": "correct horse battery"}',
    "deep nesting": DEEP,
    "nan": b'{"username": "nan", "password": NaN}',
    "infinity": b'{"content": "x", "title": -Infinity}',
    "huge float": b'{"url": "https://example.com/", "max_clicks": 1e400}',
}
ANONYMOUS_WRITES = [
    "/api/v1/pastes",
    "/api/v1/links",
    "/api/v1/auth/register",
    "/api/v1/auth/login",
]
BIG = 2**64


def assert_error_shape(response: httpx.Response, *codes: int) -> dict[str, Any]:
    """Check the one documented error shape: detail a string, errors a list of problems."""
    assert response.status_code in codes, (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    for problem in body.get("errors") or []:
        assert set(problem) == {"loc", "msg", "type"}, problem
        assert isinstance(problem["msg"], str)
    return body


@pytest.mark.parametrize("path", ANONYMOUS_WRITES)
@pytest.mark.parametrize("name", list(BROKEN_BODIES))
async def test_broken_json_is_refused_precisely(
    client: httpx.AsyncClient, path: str, name: str
) -> None:
    response = await client.post(path, content=BROKEN_BODIES[name], headers=JSON)
    assert_error_shape(response, 400, 422)


async def test_non_finite_numbers_are_refused_everywhere(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    for method, path, raw in [
        ("POST", "/api/v1/chat/sessions", b'{"title": "t", "temperature": NaN}'),
        ("POST", "/api/v1/chat/sessions", b'{"temperature": 1e400}'),
        ("PATCH", "/api/v1/auth/me", b'{"theme": Infinity}'),
        ("POST", "/v1/chat/completions", b'{"model": "m", "messages": [], "temperature": NaN}'),
        ("POST", "/api/v1/pastes", b'{"content": "x", "expires_in": -Infinity}'),
    ]:
        response = await client.request(
            method, path, content=raw, headers={**JSON, **bearer(token)}
        )
        body = assert_error_shape(response, 400, 422)
        assert "JSON" in body["detail"] or "finite" in body["detail"], (path, body)


async def test_a_field_error_names_its_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/register", json={"username": "abc"})
    body = assert_error_shape(response, 422)
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert "password" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/api/v1/notifications/{BIG}/read"),
        ("DELETE", f"/api/v1/auth/tokens/{BIG}"),
        ("PATCH", f"/api/v1/admin/users/{BIG}"),
        ("PUT", f"/api/v1/files/quotas/{BIG}"),
        ("POST", f"/api/v1/reports/{BIG}/dismiss"),
        ("POST", f"/api/v1/reports/{BIG}/takedown"),
        ("POST", f"/api/v1/notifications/{-BIG}/read"),
    ],
)
async def test_ids_beyond_64_bits_are_refused(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    admin = await user_token(client)  # the first account: an admin
    body = {"quota_bytes": 1} if "quotas" in path else {"is_admin": True}
    response = await client.request(method, path, json=body, headers=bearer(admin))
    assert_error_shape(response, 404, 422)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30, False, True, 1.5, -1])
async def test_integer_fields_are_64_bit_and_not_booleans(
    client: httpx.AsyncClient, value: Any
) -> None:
    admin = await user_token(client)
    name = await register(client)
    users = (await client.get("/api/v1/admin/users", headers=bearer(admin))).json()
    user_id = next(u["id"] for u in users if u["username"] == name)
    response = await client.put(
        f"/api/v1/files/quotas/{user_id}", json={"quota_bytes": value}, headers=bearer(admin)
    )
    body = assert_error_shape(response, 422)
    assert body["errors"][0]["loc"] == ["body", "quota_bytes"]
    kept = await client.put(
        f"/api/v1/files/quotas/{user_id}", json={"quota_bytes": 2**63 - 1}, headers=bearer(admin)
    )
    assert kept.status_code == 200, kept.text


async def test_big_integers_in_bodies_are_refused(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    for path, body in [
        ("/api/v1/links", {"url": "https://example.com/", "max_clicks": 2**64}),
        ("/api/v1/chat/sessions", {"temperature": 2**70}),
        ("/v1/chat/completions", {"model": "m", "messages": [], "max_tokens": 2**64}),
    ]:
        response = await client.post(path, json=body, headers=bearer(token))
        assert response.status_code in (400, 422), (path, response.text)
        assert response.json()
