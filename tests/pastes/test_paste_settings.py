"""Operator settings for pastes: anonymous switch, size limit, default expiry, rate limit."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import bearer, user_token

MAX_BYTES = 2048


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "paste_allow_anonymous": False,
        "paste_max_bytes": MAX_BYTES,
        "paste_default_expiry": "1h",
        "paste_rate_limit": "3/day",  # a day: the sliding window keeps the count for the whole test
    }


async def test_anonymous_pastes_can_be_disabled(client: httpx.AsyncClient) -> None:
    refused = await client.post("/api/v1/pastes", json={"content": "hi"})
    assert refused.status_code == 401
    assert "anonymous" in refused.json()["detail"]


async def test_size_limit_default_expiry_and_rate(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    client.cookies.clear()
    auth = bearer(token)
    too_big = await client.post(
        "/api/v1/pastes", json={"content": "a" * (MAX_BYTES + 1)}, headers=auth
    )
    assert too_big.status_code == 413
    assert str(MAX_BYTES) in too_big.json()["detail"]
    ok = await client.post("/api/v1/pastes", json={"content": "a" * MAX_BYTES}, headers=auth)
    assert ok.status_code == 201, ok.text
    assert ok.json()["expires_at"] is not None
    assert "delete_token" not in ok.json()  # owners delete through their account
    assert (
        await client.post("/api/v1/pastes", json={"content": "b"}, headers=auth)
    ).status_code == 201
    assert (
        await client.post("/api/v1/pastes", json={"content": "c"}, headers=auth)
    ).status_code == 201  # the refused oversize paste did not count
    limited = await client.post("/api/v1/pastes", json={"content": "d"}, headers=auth)
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    listed = await client.get("/api/v1/pastes", headers=auth)
    assert len(listed.json()) == 3


async def test_refused_pastes_do_not_use_up_the_rate(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    client.cookies.clear()
    auth = bearer(token)
    refused = [
        {"content": "a" * (MAX_BYTES + 1)},
        {"content": "x", "language": "no-such-language"},
        {"content": "not base64!", "encrypted": True},
        {"content": ""},
    ]
    for body in refused:
        response = await client.post("/api/v1/pastes", json=body, headers=auth)
        assert response.status_code in (413, 422), response.text
    for n in range(3):
        accepted = await client.post("/api/v1/pastes", json={"content": f"{n}"}, headers=auth)
        assert accepted.status_code == 201, accepted.text
    limited = await client.post("/api/v1/pastes", json={"content": "over"}, headers=auth)
    assert limited.status_code == 429
    # Over the limit, even a malformed paste gets 429 before its body is looked at.
    early = await client.post("/api/v1/pastes", content=b"\xff", headers=auth)
    assert early.status_code == 429
    assert len((await client.get("/api/v1/pastes", headers=auth)).json()) == 3
