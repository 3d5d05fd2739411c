"""The emulator's parts wired together, and the helpers every route uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.events import Events
from meatlizard.dev.discord_emulator.gateway import Gateway
from meatlizard.dev.discord_emulator.interactions import Interactions
from meatlizard.dev.discord_emulator.messaging import Messaging
from meatlizard.dev.discord_emulator.models import Application, User
from meatlizard.dev.discord_emulator.ratelimit import RateLimiter
from meatlizard.dev.discord_emulator.state import State


@dataclass
class OAuthGrant:
    """An authorization code or access token issued to an application for a user."""

    app: Application
    user: User
    scopes: list[str]
    redirect_uri: str = ""
    code_challenge: str | None = None  # PKCE (S256) challenge sent with the authorize request


@dataclass
class Core:
    """State, gateway, event routing, messages, interactions, rate limits and OAuth2 grants."""

    state: State = field(default_factory=State)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    codes: dict[str, OAuthGrant] = field(default_factory=dict)
    access_tokens: dict[str, OAuthGrant] = field(default_factory=dict)
    refresh_tokens: dict[str, OAuthGrant] = field(default_factory=dict)
    authorizing_user: User | None = None
    deny_consent: bool = False  # the signed-in user clicks "Cancel" on the consent page

    def __post_init__(self) -> None:
        self.gateway = Gateway(self.state)
        self.events = Events(self.state, self.gateway)
        self.messaging = Messaging(self.state, self.events)
        self.interactions = Interactions(self.state, self.messaging)
        self.limiter.on_hit = self.state.notify


CORE = web.AppKey("core", Core)


def core(request: web.Request) -> Core:
    """Return the emulator behind a request."""
    return request.app[CORE]


def bot_app(request: web.Request) -> Application:
    """Return the application whose bot token authorises the request, or raise 401."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bot "):
        raise errors.unauthorized()
    app = core(request).state.tokens.get(header.removeprefix("Bot "))
    if app is None:
        raise errors.unauthorized()
    return app


def json(data: Any, status: int = 200) -> web.Response:
    """Return a JSON response."""
    return errors.json_response(data, status)


@web.middleware
async def api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ApiError into Discord's JSON error body, and unknown routes into 404 JSON."""
    try:
        return await handler(request)
    except errors.ApiError as exc:
        return exc.response()
    except web.HTTPNotFound:
        return json({"message": "404: Not Found", "code": 0}, 404)
    except web.HTTPMethodNotAllowed:
        return json({"message": "405: Method Not Allowed", "code": 0}, 405)
