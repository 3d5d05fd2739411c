"""Serve the web app on a chosen port, so the Discord app can know its redirect URL first."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.models import Application, User
from tests.helpers import serving as serve_app

CALLBACK = "/auth/discord/callback"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def oauth_settings(emulator: DiscordEmulator, app: Application, port: int) -> dict[str, object]:
    """Return the settings that point "Log in with Discord" at the emulator's application."""
    return {
        "discord_client_id": app.id,
        "discord_client_secret": app.client_secret,
        "discord_oauth_redirect_url": f"http://127.0.0.1:{port}{CALLBACK}",
        "discord_api_base": emulator.api_url,
    }


def login_app(emulator: DiscordEmulator, port: int) -> Application:
    """Register the web site as a Discord application allowed to redirect to its callback."""
    return emulator.create_bot(
        "meatlizard-web", redirect_uris=[f"http://127.0.0.1:{port}{CALLBACK}"]
    )


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serve the app with uvicorn on the port; yield its base URL."""
    async with serve_app(app, port, log_level="warning") as base_url:
        yield base_url


async def discord_login(
    client: httpx.AsyncClient, emulator: DiscordEmulator, user: User | None
) -> httpx.Response:
    """Click "Log in with Discord" as this Discord user; return the last page reached."""
    emulator.authorize_as(user)
    return await client.get("/auth/discord/login", follow_redirects=True)


async def csrf(client: httpx.AsyncClient, page: str = "/account") -> str:
    """Return the CSRF token of a page's forms."""
    match = TOKEN_RE.search((await client.get(page)).text)
    assert match, page
    return match.group(1)
