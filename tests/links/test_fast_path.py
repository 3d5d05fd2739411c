"""The /s/{slug} fast path: plain links answered ahead of routing, the rest left to the routes."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from meatlizard.core.metrics import REDIRECTS
from meatlizard.links.fast import LinkFastPath
from meatlizard.runtime import Services
from tests.helpers import user_token
from tests.links.helpers import BROWSER_UA, TARGET, create_link, follow


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"link_redirect_status": 308}


class Routes:
    """Stands in for the routes behind the fast path: answers 418 and notes each request."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _ask(app: FastAPI, path: str, method: str = "GET") -> tuple[list[Message], Routes]:
    routes, sent = Routes(), []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"user-agent", BROWSER_UA.encode()), (b"referer", b"https://chat.example/x")]
    scope = {"type": "http", "method": method, "path": path, "headers": headers, "app": app}
    await LinkFastPath(routes)(scope, receive, send)
    return sent, routes


async def test_plain_link_is_answered_without_routing(app: FastAPI, services: Services) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        slug = (await create_link(http))["slug"]
    link = await services.links.lookup(slug)
    assert link is not None
    sent, routes = await _ask(app, f"/s/{slug}")
    assert routes.seen == []
    assert sent[0]["status"] == 308  # LINK_REDIRECT_STATUS below
    assert dict(sent[0]["headers"]) == {
        b"location": TARGET.encode(),
        b"cache-control": b"public, max-age=3600",
        b"content-length": b"0",
    }
    assert sent[1] == {"type": "http.response.body", "body": b""}
    assert services.links.clicks.pending(link.id) == (1, 0)
    assert await services.links.clicks.flush() == 1


async def test_everything_unusual_falls_through(app: FastAPI, services: Services) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        token = await user_token(http)
        plain = (await create_link(http, token))["slug"]
        secret = (await create_link(http, token, password="open sesame"))["slug"]
        off = (await create_link(http, token, enabled=False))["slug"]
        capped = (await create_link(http, token, max_clicks=1))["slug"]
        assert (await follow(http, capped)).status_code == 308  # the only click allowed
    asked = [
        ("GET", f"/s/{plain}+"),  # preview
        ("GET", f"/s/{plain}/qr.svg"),
        ("HEAD", f"/s/{plain}"),
        ("POST", f"/s/{plain}"),
        ("GET", f"/s/{secret}"),
        ("GET", f"/s/{off}"),
        ("GET", f"/s/{capped}"),
        ("GET", "/s/no-such-slug"),
        ("GET", "/s/"),
        ("GET", "/healthz"),
    ]
    for method, path in asked:
        sent, routes = await _ask(app, path, method)
        assert routes.seen == [f"{method} {path}"], path
        assert sent[0]["status"] == 418
    assert await services.links.clicks.flush() == 1  # only the capped link's real click


async def test_redirect_over_http_matches_the_route(
    client: httpx.AsyncClient, app: FastAPI, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    slug = (await create_link(client))["slug"]
    before = REDIRECTS._value.get()
    fast = await follow(client, slug)
    assert REDIRECTS._value.get() == before + 1  # counted as it is served
    assert fast.status_code == 308
    assert fast.headers["location"] == TARGET
    assert fast.headers["cache-control"] == "public, max-age=3600"
    assert fast.headers["x-content-type-options"] == "nosniff"
    assert fast.headers["referrer-policy"] == "same-origin"
    assert await services.links.clicks.flush() == 1
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        with caplog.at_level(logging.DEBUG, logger="meatlizard.access"):
            await http.get(f"/s/{slug}")  # fast path
            await http.get(f"/s/{slug}+")  # a page
    levels = {r.getMessage(): r.levelno for r in caplog.records if r.name == "meatlizard.access"}
    assert levels == {f"GET /s/{slug} 308": logging.DEBUG, f"GET /s/{slug}+ 200": logging.INFO}


async def test_password_link_redirect_through_the_route_logs_at_debug(
    client: httpx.AsyncClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    token = await user_token(client)
    slug = (await create_link(client, token, password="open sesame"))["slug"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        with caplog.at_level(logging.DEBUG, logger="meatlizard.access"):
            answer = await follow(http, slug, **{"X-Link-Password": "open sesame"})
    assert answer.status_code == 308 and answer.headers["location"] == TARGET
    assert answer.headers["cache-control"] == "public, max-age=3600"
    [record] = [r for r in caplog.records if r.name == "meatlizard.access"]
    assert record.levelno == logging.DEBUG
