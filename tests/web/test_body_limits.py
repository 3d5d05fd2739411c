"""Request bodies are limited while they are read: 413 early, then the connection closes."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import bearer, user_token

JSON_LIMIT = 4096
ANSWER_SECONDS = 30  # bound on every wait for the server


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_json_body_bytes": JSON_LIMIT}


async def _exchange(live_server: str, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request head and body parts on a raw socket; return all it answers until EOF."""
    url = urlsplit(live_server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head)
        for part in body_parts:
            writer.write(part)
            await writer.drain()
        answer = b""
        while chunk := await asyncio.wait_for(reader.read(65536), ANSWER_SECONDS):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.count(b"HTTP/1.1 ") == 1:
                # the first answer is in: what the server still sends must be nothing
                writer.write(b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        return answer
    finally:
        writer.close()


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: t", "Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_huge_declared_body_is_refused_before_it_is_read(live_server: str) -> None:
    head = _head("/api/v1/auth/login", f"Content-Length: {100 * 1024 * 1024}")
    answer = await _exchange(live_server, head, [b"{" + b" " * 65_536])
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert answer.count(b"HTTP/1.1 ") == 1  # the connection closed; nothing else was answered
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert str(JSON_LIMIT) in body["detail"]


async def test_a_chunked_body_is_cut_at_the_limit(live_server: str) -> None:
    head = _head("/api/v1/links", "Transfer-Encoding: chunked")
    chunk = b'{"url": "https://example.com/", "title": "' + b"x" * 2000
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 3  # past the limit, never finished
    answer = await _exchange(live_server, head, parts)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert answer.count(b"HTTP/1.1 ") == 1  # the unread body was not taken as a next request


async def test_the_json_limit_applies_to_every_json_route(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    big = "x" * JSON_LIMIT
    for method, path, body in [
        ("POST", "/api/v1/auth/login", {"username": "someone", "password": big}),
        ("POST", "/api/v1/auth/register", {"username": "someone", "password": big}),
        ("POST", "/api/v1/chat/sessions", {"system_prompt": big}),
        ("PATCH", "/api/v1/auth/me", {"display_name": big}),
        ("POST", "/api/v1/links", {"url": "https://example.com/" + big}),
    ]:
        refused = await client.request(method, path, json=body, headers=bearer(token))
        assert refused.status_code == 413, (path, refused.text)
        assert refused.headers["connection"] == "close"
        assert "larger than the limit" in refused.json()["detail"]


async def test_uploads_and_pastes_keep_their_own_limits(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    data = b"z" * (JSON_LIMIT * 4)
    as_json = {"Content-Type": "application/json", **bearer(token)}  # a file, not a JSON body
    stored = await client.put("/api/v1/files/big.json", content=data, headers=as_json)
    assert stored.status_code == 201, stored.text
    assert stored.json()["size"] == len(data)
    paste = await client.post(
        "/api/v1/pastes", json={"content": data.decode()}, headers=bearer(token)
    )
    assert paste.status_code == 201, paste.text
