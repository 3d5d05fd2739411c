"""OAuth2 for "Log in with Discord": authorize (redirects at once for tests), token, revoke."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.core import Core, OAuthGrant, core, json
from meatlizard.dev.discord_emulator.models import Application

routes = web.RouteTableDef()
DENIED = "The resource owner or authorization server denied the request"
TOKEN_LIFETIME_S = 604_800
KNOWN_SCOPES = {
    "identify",
    "email",
    "guilds",
    "guilds.members.read",
    "bot",
    "applications.commands",
}


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return json({"error": error, "error_description": description}, status)


@routes.get("/oauth2/authorize")
@routes.get("/api/oauth2/authorize")
@routes.get("/api/v10/oauth2/authorize")
async def authorize(request: web.Request) -> web.Response:
    """Approve at once as the emulator's signed-in user and redirect back with a code."""
    ctx = core(request)
    query = request.query
    app = _app(ctx, query.get("client_id", ""))
    if app is None:
        return _oauth_error(400, "invalid_client", "Unknown client_id")
    redirect_uri = query.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        return _oauth_error(400, "invalid_request", "Invalid OAuth2 redirect_uri")
    if query.get("response_type") != "code":
        return _oauth_error(400, "unsupported_response_type", "Only response_type=code")
    scopes = query.get("scope", "").split()
    if not scopes or set(scopes) - KNOWN_SCOPES:
        return _oauth_error(400, "invalid_scope", "Invalid scope")
    if ctx.authorizing_user is None:
        return _oauth_error(400, "access_denied", "No user is signed in to the emulator")
    params: dict[str, str] = {}
    challenge = query.get("code_challenge")
    if challenge is not None and query.get("code_challenge_method") != "S256":
        return _oauth_error(400, "invalid_request", "Only code_challenge_method=S256")
    if ctx.deny_consent:
        params["error"] = "access_denied"
        params["error_description"] = (
            "The resource owner or authorization server denied the request"
        )
    else:
        code = secrets.token_urlsafe(24)
        grant = OAuthGrant(app, ctx.authorizing_user, scopes, redirect_uri, challenge)
        ctx.codes[code] = grant
        params["code"] = code
    if "state" in query:
        params["state"] = query["state"]
    raise web.HTTPFound(f"{redirect_uri}?{urlencode(params)}")


def _pkce_ok(challenge: str, form: dict[str, str]) -> bool:
    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(expected, challenge)


def _app(ctx: Core, client_id: str) -> Application | None:
    return ctx.state.apps.get(int(client_id)) if client_id.isdigit() else None


def _client(ctx: Core, request: web.Request, form: dict[str, str]) -> Application | None:
    """Return the client authenticated by HTTP Basic or by client_id/client_secret fields."""
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
    app = _app(ctx, client_id)
    return app if app is not None and secrets.compare_digest(app.client_secret, secret) else None


@routes.post("/api/oauth2/token")
@routes.post("/api/v10/oauth2/token")
async def token(request: web.Request) -> web.Response:
    """Exchange an authorization code or a refresh token for an access token."""
    ctx = core(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    app = _client(ctx, request, form)
    if app is None:
        return _oauth_error(401, "invalid_client", "Invalid client credentials")
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = ctx.codes.pop(form.get("code", ""), None)
        if grant is None or grant.app is not app:
            return _oauth_error(400, "invalid_grant", 'Invalid "code" in request.')
        if form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error(400, "invalid_grant", 'Invalid "redirect_uri" in request.')
        if grant.code_challenge is not None and not _pkce_ok(grant.code_challenge, form):
            return _oauth_error(400, "invalid_grant", 'Invalid "code_verifier" in request.')
    elif grant_type == "refresh_token":
        grant = ctx.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if grant is None or grant.app is not app:
            return _oauth_error(400, "invalid_grant", 'Invalid "refresh_token" in request.')
    else:
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
    access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    ctx.access_tokens[access] = ctx.refresh_tokens[refresh] = grant
    return json(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
            "refresh_token": refresh,
            "scope": " ".join(grant.scopes),
        }
    )


@routes.post("/api/oauth2/token/revoke")
@routes.post("/api/v10/oauth2/token/revoke")
async def revoke(request: web.Request) -> web.Response:
    """Revoke an access or refresh token."""
    ctx = core(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    if _client(ctx, request, form) is None:
        return _oauth_error(401, "invalid_client", "Invalid client credentials")
    value = form.get("token", "")
    ctx.access_tokens.pop(value, None)
    ctx.refresh_tokens.pop(value, None)
    return json({})


@routes.get("/api/v10/oauth2/@me")
async def authorization_info(request: web.Request) -> web.Response:
    """Return the current authorization: application, scopes, expiry and user."""
    grant = core(request).access_tokens.get(
        request.headers.get("Authorization", "").removeprefix("Bearer ")
    )
    if grant is None:
        raise errors.unauthorized()
    expires = datetime.now(UTC) + timedelta(seconds=TOKEN_LIFETIME_S)
    return json(
        {
            "application": {k: v for k, v in grant.app.payload().items() if k != "owner"},
            "scopes": grant.scopes,
            "expires": expires.isoformat(),
            "user": grant.user.payload(),
        }
    )
