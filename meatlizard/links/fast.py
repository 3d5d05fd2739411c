"""GET /s/{slug} answered straight from the link cache, ahead of FastAPI routing.

Only the plain case is handled here: a cached, enabled, unexpired link without a password,
within its click limit. Everything else (previews `/s/{slug}+`, QR codes, password links,
unknown slugs, HEAD, errors) falls through to the routes in links/go.py, which answer as before.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from meatlizard.api.deps import settings_of
from meatlizard.api.middleware import LOG_LEVEL_KEY
from meatlizard.links.deps import links_of
from meatlizard.links.redirects import REDIRECT_LOG_LEVEL, CachedLink

PREFIX = "/s/"
HEADER_MEMO_SIZE = 4096  # precomputed redirect headers, one list per (target, status)
RawHeaders = list[tuple[bytes, bytes]]


class LinkFastPath:
    """Redirect plain short links without routing, dependencies or a Request object."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers: dict[tuple[str, int], RawHeaders] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(PREFIX)
            or scope["method"] != "GET"  # HEAD gets the route's 405, as before
            or scope.get("root_path")
            or not await self._redirected(scope, send, path[len(PREFIX) :])
        ):
            await self.app(scope, receive, send)

    async def _redirected(self, scope: Scope, send: Send, slug: str) -> bool:
        """Send the redirect and return True, or return False having sent nothing."""
        if not slug or "/" in slug or slug.endswith("+"):
            return False
        state = scope["app"].state
        resolver = links_of(state)
        try:
            link = await resolver.lookup(slug)
            if link is None or link.protected or link.gone_reason(time.time()):
                return False
            status = settings_of(state).link_redirect_status
            headers = self._headers_for(link, status)
            # A link past its limit falls through too; the route then refuses it (410).
            if not await resolver.claim(link):
                return False
        except Exception:  # the route meets the same problem and reports it properly
            return False
        user_agent, referer = "", None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"referer":
                referer = value.decode("latin-1")
        client = scope.get("client")  # uvicorn applied a trusted proxy's X-Forwarded-For
        resolver.clicks.record(
            link.id, user_agent=user_agent, referer=referer, client=client[0] if client else None
        )
        scope[LOG_LEVEL_KEY] = REDIRECT_LOG_LEVEL
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return True

    def _headers_for(self, link: CachedLink, status: int) -> RawHeaders:
        """Return the redirect's raw headers, built once per target and status."""
        headers = self._headers.get((link.url, status))
        if headers is None:
            if len(self._headers) >= HEADER_MEMO_SIZE:
                self._headers.clear()
            headers = self._headers[(link.url, status)] = [
                (b"location", link.url.encode("latin-1")),
                (b"cache-control", link.cache_control(status).encode("latin-1")),
                (b"content-length", b"0"),
            ]
        return headers
