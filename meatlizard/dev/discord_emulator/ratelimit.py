"""Discord-style rate limits: fixed-window buckets per route and major parameter, with headers."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from meatlizard.dev.discord_emulator.errors import ApiError, json_response

MESSAGE_CREATE = "POST /api/v10/channels/{channel_id}/messages"
MESSAGE_EDIT = "PATCH /api/v10/channels/{channel_id}/messages/{message_id}"
# topics/rate-limits#invalid-request-limit-aka-cloudflare-bans: 10,000 responses of 401, 403
# or 429 (except shared-scope 429s) from one IP in 10 minutes get it banned for a while.
INVALID_LIMIT, INVALID_WINDOW_S = 10_000, 600.0
INVALID_STATUSES = (401, 403, 429)
# A channel's name (and topic) may change twice per 10 minutes: a per-resource limit.
RENAMES, RENAME_WINDOW_S = 2, 600.0
CHANNEL_EDIT = "PATCH /api/v10/channels/{channel_id}"
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "interaction_id")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Limit:
    """At most `limit` requests per `per` seconds; shared limits count every caller together."""

    limit: int
    per: float
    shared: bool = False


@dataclass
class Window:
    """One bucket's current window."""

    resets_at: float
    used: int = 0


@dataclass
class RateLimitHit:
    """A 429 the emulator answered, for tests to inspect."""

    route: str
    scope: str
    retry_after: float


@dataclass
class RateLimiter:
    """Counts requests per (caller, route, major parameter) and answers 429 past the limit."""

    # Message sends and edits: 5 per 5 s per channel, the rate bots observe on Discord.
    limits: dict[str, Limit] = field(
        default_factory=lambda: {MESSAGE_CREATE: Limit(5, 5.0), MESSAGE_EDIT: Limit(5, 5.0)}
    )
    default: Limit = field(default_factory=lambda: Limit(50, 1.0))
    global_limit: Limit = field(default_factory=lambda: Limit(50, 1.0))
    windows: dict[tuple[str, ...], Window] = field(default_factory=dict)
    hits: list[RateLimitHit] = field(default_factory=list)
    invalid_limit: Limit = field(default_factory=lambda: Limit(INVALID_LIMIT, INVALID_WINDOW_S))
    banned: set[str] = field(default_factory=set)  # callers past the invalid-request limit
    on_hit: Callable[[], None] | None = None  # wakes the test-control API's waiters
    renames: dict[int, list[float]] = field(default_factory=dict)  # channel id -> times

    def set_limit(self, route: str, limit: int, per: float, *, shared: bool = False) -> None:
        """Set a route's limit, e.g. set_limit(MESSAGE_CREATE, 5, 5.0)."""
        self.limits[route] = Limit(limit, per, shared)
        self.windows = {k: w for k, w in self.windows.items() if k[1] != route}

    def _take(self, key: tuple[str, ...], limit: Limit, now: float) -> Window:
        window = self.windows.get(key)
        if window is None or now >= window.resets_at:
            window = self.windows[key] = Window(now + limit.per)
        window.used += 1
        return window

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Apply the ban, the global and per-route limits to /api requests; count invalid ones."""
        info = request.match_info
        if not request.path.startswith("/api/") or info.route.resource is None:
            return await handler(request)
        caller = request.headers.get("Authorization", "anonymous")
        if caller in self.banned:
            return self._banned()
        try:
            response = await self._limited(request, handler, caller)
        except ApiError as exc:
            self._count_invalid(caller, exc.status)
            raise
        shared = response.headers.get("X-RateLimit-Scope") == "shared"
        if not shared:
            self._count_invalid(caller, response.status)
        return response

    async def _limited(
        self, request: web.Request, handler: Handler, caller: str
    ) -> web.StreamResponse:
        info = request.match_info
        assert info.route.resource is not None
        route = f"{request.method} {info.route.resource.canonical}"
        now = time.time()
        if caller != "anonymous":
            overall = self._take(("global", caller), self.global_limit, now)
            if overall.used > self.global_limit.limit:
                return self._too_many(route, "global", overall, now)
        limit = self.limits.get(route, self.default)
        major = ":".join(info.get(name, "") for name in MAJOR_PARAMETERS)
        window = self._take(("*" if limit.shared else caller, route, major), limit, now)
        headers = {
            "X-RateLimit-Limit": str(limit.limit),
            "X-RateLimit-Remaining": str(max(limit.limit - window.used, 0)),
            "X-RateLimit-Reset": f"{window.resets_at:.3f}",
            "X-RateLimit-Reset-After": f"{max(window.resets_at - now, 0):.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route.encode()).hexdigest()[:32],
        }
        if window.used > limit.limit:
            scope = "shared" if limit.shared else "user"
            refused = self._too_many(route, scope, window, now)
            refused.headers.update(headers)
            return refused
        response = await handler(request)
        response.headers.update(headers)
        return response

    def rename(self, channel_id: int) -> web.Response | None:
        """Count a channel rename; return the 429 for a third one within 10 minutes."""
        now = time.time()
        recent = [t for t in self.renames.get(channel_id, []) if now - t < RENAME_WINDOW_S]
        if len(recent) >= RENAMES:
            window = Window(recent[0] + RENAME_WINDOW_S, len(recent) + 1)
            return self._too_many(CHANNEL_EDIT, "shared", window, now)
        self.renames[channel_id] = [*recent, now]
        return None

    def _count_invalid(self, caller: str, status: int) -> None:
        if status not in INVALID_STATUSES:
            return
        window = self._take(("invalid", caller), self.invalid_limit, time.time())
        if window.used >= self.invalid_limit.limit:
            self.banned.add(caller)

    @staticmethod
    def _banned() -> web.Response:
        """Answer like Cloudflare's ban: a 429 that does not come through Discord's API (no Via)."""
        return web.Response(
            status=429,
            text="error code: 1015",
            headers={"Content-Type": "text/plain", "Retry-After": "3600"},
        )

    def _too_many(self, route: str, scope: str, window: Window, now: float) -> web.Response:
        retry_after = round(max(window.resets_at - now, 0.001), 3)
        self.hits.append(RateLimitHit(route, scope, retry_after))
        if self.on_hit is not None:
            self.on_hit()
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = scope == "global"
        headers = {
            # Discord's API answers through Google's front end; discord.py treats a 429
            # without Via as a Cloudflare ban rather than a rate limit.
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": scope,
        }
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        return json_response(body, 429, headers)
