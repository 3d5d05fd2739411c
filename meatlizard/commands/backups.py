"""`meatlizard backup`, `restore` and `backups`: back up, restore and list backups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import typer

from meatlizard.commands.common import settings_or_exit


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
