"""The Discord side of "Log in with Discord": authorize URL, code exchange, users/@me."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from meatlizard.core.errors import Unavailable
from meatlizard.core.settings import Settings

log = logging.getLogger(__name__)

SCOPES = "identify"
HTTP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class DiscordIdentity:
    """Who authorized us, as Discord's users/@me describes them."""

    id: int
    username: str
    global_name: str | None


def new_verifier() -> str:
    """Return a fresh PKCE code verifier (43+ URL-safe characters)."""
    return secrets.token_urlsafe(48)


def challenge_for(verifier: str) -> str:
    """Return the S256 PKCE challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(settings: Settings, *, state: str, verifier: str) -> str:
    """Return the Discord consent page URL for this state and PKCE verifier."""
    query = {
        "client_id": str(settings.discord_client_id),
        "redirect_uri": settings.discord_oauth_redirect_url or "",
        "response_type": "code",
        "scope": SCOPES,
        "state": state,
        "code_challenge": challenge_for(verifier),
        "code_challenge_method": "S256",
    }
    return f"{settings.discord_rest_url}/oauth2/authorize?{urlencode(query)}"


async def identify(settings: Settings, *, code: str, verifier: str) -> DiscordIdentity:
    """Exchange the code for a token, read users/@me, then revoke the token."""
    # Imported on the first Discord login, not at start-up: aiohttp is ~9 MiB of modules that
    # the web process needs for nothing else (the bots, which use it, run elsewhere).
    import aiohttp

    assert settings.discord_client_id and settings.discord_client_secret
    client = {
        "Authorization": aiohttp.encode_basic_auth(
            str(settings.discord_client_id), settings.discord_client_secret.get_secret_value()
        )
    }
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.discord_oauth_redirect_url or "",
        "code_verifier": verifier,
    }
    base = settings.discord_rest_url
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.post(f"{base}/oauth2/token", data=form, headers=client) as response:
                body = await response.json(content_type=None)
                if response.status != 200 or "access_token" not in body:
                    log.warning("Discord refused the code exchange: %s %s", response.status, body)
                    raise Unavailable("Discord did not accept the login; please try again")
            token = str(body["access_token"])
            bearer = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{base}/users/@me", headers=bearer) as response:
                me = await response.json(content_type=None)
                if response.status != 200 or "id" not in me:
                    raise Unavailable("Discord did not say who you are; please try again")
            # We only needed to know who you are: give the token back at once.
            revoke = {"token": token, "token_type_hint": "access_token"}
            async with http.post(f"{base}/oauth2/token/revoke", data=revoke, headers=client):
                pass
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("Discord could not be reached for the login: %s", exc)
        raise Unavailable("Discord could not be reached; please try again later") from None
    return DiscordIdentity(int(me["id"]), str(me["username"]), me.get("global_name"))
