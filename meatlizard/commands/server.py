"""`meatlizard serve`, `worker` and `migrate`: the web site, background jobs, the schema."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from meatlizard.commands.common import settings_or_exit

WS_MAX_BYTES = 2_000_000  # largest chat socket message accepted


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Web processes; above 1 needs REDIS_URL.")
    ] = 1,
) -> None:
    """Run the web site, API and (embedded default) the in-process model."""
    import uvicorn

    from meatlizard.core.logging import configure
    from meatlizard.core.migrate import MigrationFailed, upgrade_in_child

    settings = settings_or_exit()
    configure(settings.log_level, settings.log_format)
    if workers > 1 and not settings.redis_url:
        typer.echo(
            "meatlizard: setting REDIS_URL: --workers above 1 needs Redis, so that the"
            " processes share the cache, rate limits, link click caps and the chat bus",
            err=True,
        )
        raise typer.Exit(2)
    try:
        upgrade_in_child()  # once, before any worker starts; Alembic stays out of the server
    except MigrationFailed as exc:
        typer.echo(f"meatlizard: {exc}", err=True)
        raise typer.Exit(1) from None
    from meatlizard.api.websocket_protocol import WebSocketProtocol

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "ws_max_size": WS_MAX_BYTES,
        "ws": WebSocketProtocol,  # uvicorn's, with a shutdown that survives a closing socket
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        from meatlizard.app import create_app

        uvicorn.run(create_app(settings, migrate=False), **options)
        return
    uvicorn.run("meatlizard.app:app_from_environment", factory=True, workers=workers, **options)


def worker() -> None:
    """Run background jobs: video transcodes and scheduled backups (BACKUP_SCHEDULE)."""
    from meatlizard.background import run_background
    from meatlizard.core.logging import configure
    from meatlizard.core.storage import StorageError

    settings = settings_or_exit()
    configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(run_background(settings))
    except StorageError as exc:  # BACKUP_TARGET cannot be used: say so in one line
        typer.echo(f"meatlizard: {exc}", err=True)
        raise typer.Exit(2) from None


def migrate() -> None:
    """Bring the database schema up to date."""
    from meatlizard.core.migrate import upgrade_sync

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_sync(settings.effective_database_url)
    typer.echo("database is up to date")
