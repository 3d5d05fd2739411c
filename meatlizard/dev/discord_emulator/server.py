"""The emulator as an aiohttp server: REST v10, the Gateway, OAuth2 and attachment files."""

from __future__ import annotations

import socket

from aiohttp import web

from meatlizard.dev.discord_emulator import (
    oauth,
    rest_channels,
    rest_interactions,
    rest_messages,
    rest_users,
)
from meatlizard.dev.discord_emulator.control import Control
from meatlizard.dev.discord_emulator.core import CORE, Core, api_errors

GATEWAY_PATH = "/gateway"


def build_app(core: Core) -> web.Application:
    """Return the aiohttp application serving the emulator."""
    app = web.Application(
        middlewares=[api_errors, core.limiter.middleware], client_max_size=32 * 1024**2
    )
    app[CORE] = core
    for module in (rest_users, rest_channels, rest_messages, rest_interactions, oauth):
        app.add_routes(module.routes)
    app.router.add_get(GATEWAY_PATH, core.gateway.handle)
    app.router.add_get(f"{GATEWAY_PATH}/", core.gateway.handle)
    return app


class DiscordEmulator(Control):
    """A local Discord: start() it, point discord.py at `api_url`, drive it with Control methods."""

    def __init__(self, *, ack_deadline_s: float = 3.0, heartbeat_interval_ms: int = 41_250) -> None:
        self.core = Core()
        self.core.interactions.ack_deadline_s = ack_deadline_s
        self.core.gateway.heartbeat_interval_ms = heartbeat_interval_ms
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Return the base URL, e.g. http://127.0.0.1:PORT."""
        return self.core.state.base_url

    @property
    def api_url(self) -> str:
        """Return the REST base for discord.http.Route.BASE."""
        return self.core.state.api_url

    @property
    def gateway_url(self) -> str:
        """Return the gateway URL (for discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)."""
        return self.core.state.gateway_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving (port 0 picks a free one); return the base URL."""
        self._runner = web.AppRunner(build_app(self.core), handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        site = web.SockSite(self._runner, sock)
        await site.start()
        bound_port = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.core.state.base_url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Close gateway connections and stop serving."""
        await self.core.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
