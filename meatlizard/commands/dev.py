"""`meatlizard dev ...`: developer tools for tests and local trials."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

dev = typer.Typer(help="Developer tools for tests and local trials.", no_args_is_help=True)


@dev.command("discord-emulator")
def discord_emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free).")] = 8765,
) -> None:
    """Serve a local Discord API emulator (REST v10 + Gateway) seeded with a guild and two bots."""
    from meatlizard.dev.discord_emulator.cli import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, port, typer.echo))
