"""Factories for the link tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import bearer

TARGET = "https://example.com/some/long/path?q=1"
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
HUMAN = {"User-Agent": BROWSER_UA}


async def create_link(
    client: httpx.AsyncClient, token: str | None = None, **body: Any
) -> dict[str, Any]:
    """Create a link and return its JSON description."""
    headers = bearer(token) if token else {}
    response = await client.post("/api/v1/links", json={"url": TARGET, **body}, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def follow(client: httpx.AsyncClient, slug: str, **headers: str) -> httpx.Response:
    """Request a short link as a browser would, without following the redirect."""
    return await client.get(f"/s/{slug}", headers={**HUMAN, **headers})
