"""Back the database up to object storage and restore it, with checksums and row counts."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from meatlizard.backups import dumps, objects
from meatlizard.backups.target import BackupTarget, backup_target, in_data_storage
from meatlizard.core.db import make_engine
from meatlizard.core.migrate import upgrade
from meatlizard.core.settings import Settings
from meatlizard.core.storage import ObjectNotFound, ObjectStorage, StorageError
from meatlizard.tables import Base

PREFIX = "backups/"  # in the data storage, when no BACKUP_TARGET is set
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """One stored backup."""

    key: str
    size: int
    sha256: str
    backend: str
    created_at: str
    row_counts: dict[str, int]
    objects_key: str | None = None  # every stored object with its size and checksum
    objects_count: int = 0
    objects_copied: int = 0  # copied by this backup; the others were already in the target
    objects_copied_bytes: int = 0


def backup_key(
    backend: str, now: datetime | None = None, *, precise: bool = False, prefix: str = PREFIX
) -> str:
    """Return `<prefix>meatdb-<UTC ISO timestamp>.sql.gz` (or `.sqlite.gz`).

    `precise` adds milliseconds, for a second backup within the same second.
    """
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{now.microsecond // 1000:03d}" if precise else ""
    )
    return f"{prefix}meatdb-{stamp}Z.{'sql' if backend == 'postgresql' else 'sqlite'}.gz"


def manifest_key(key: str) -> str:
    """Return the key of the JSON manifest stored next to a backup."""
    return key + ".json"


def objects_manifest_key(key: str) -> str:
    """Return the key of the listing of stored objects taken with a backup."""
    return key + ".objects.json"


def _backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Count the rows of every table the application knows."""
    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        existing = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        for table in Base.metadata.sorted_tables:
            if table.name in existing:
                counts[table.name] = int(
                    await conn.scalar(select(func.count()).select_from(table)) or 0
                )
    return counts


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def create_backup(
    *, database_url: str, storage: ObjectStorage, target: BackupTarget | None = None
) -> BackupInfo:
    """Dump the database and copy new objects into the target; nothing half-made is listed.

    The manifest is written last: a backup without one is not listed, restored or kept.
    """
    target = target or in_data_storage(storage)
    backend = _backend(database_url)
    key = backup_key(backend, prefix=target.prefix)
    if await target.storage.exists(manifest_key(key)):  # never overwrite an earlier backup
        key = backup_key(backend, precise=True, prefix=target.prefix)
    engine = make_engine(database_url)
    try:
        counts = await row_counts(engine)
    finally:
        await engine.dispose()
    newest = await list_backups(storage, target)
    previous = await _listing(target, newest[0]) if newest else []
    # Objects before and after the dump (the second pass copies only what arrived meanwhile),
    # so a row in the dump finds its object in the backup even while the site runs.
    before = await objects.back_up_objects(storage, target, previous)
    with tempfile.TemporaryDirectory(prefix="meatlizard-backup-") as tmp:
        dump = Path(tmp) / "dump.gz"
        try:
            if backend == "postgresql":
                await dumps.dump_postgres(database_url, dump)
            else:
                await asyncio.to_thread(dumps.dump_sqlite, database_url, dump)
        except dumps.DumpError as exc:
            raise BackupError(str(exc)) from exc
        after = await objects.back_up_objects(
            storage, target, objects.parse_listing(before.listing)
        )
        copied = objects.merge(before, after)
        info = BackupInfo(
            key=key,
            size=dump.stat().st_size,
            sha256=_sha256(dump),
            backend=backend,
            created_at=datetime.now(UTC).isoformat(),
            row_counts=counts,
            objects_key=objects_manifest_key(key),
            objects_count=copied.count,
            objects_copied=copied.copied,
            objects_copied_bytes=copied.copied_bytes,
        )
        await target.storage.put_stream(key, _file_chunks(dump), content_type="application/gzip")
    try:
        await target.storage.put_bytes(
            objects_manifest_key(key), copied.listing, content_type="application/json"
        )
        await target.storage.put_bytes(
            manifest_key(key),
            json.dumps(vars(info), indent=2).encode(),
            content_type="application/json",
        )
    except Exception:
        await target.storage.delete(key)  # a backup without its manifest cannot be verified
        await target.storage.delete(objects_manifest_key(key))
        raise
    return info


async def _listing(target: BackupTarget, info: BackupInfo) -> list[dict[str, Any]]:
    """Return the objects a backup holds (none for a database-only backup)."""
    if not info.objects_key:
        return []
    return objects.parse_listing(await target.storage.get_bytes(info.objects_key))


async def referenced_objects(target: BackupTarget, backups: list[BackupInfo]) -> set[str]:
    """Return the checksums of every object the given backups hold."""
    found: set[str] = set()
    for info in backups:
        found.update(entry["sha256"] for entry in await _listing(target, info))
    return found


async def list_backups(
    storage: ObjectStorage, target: BackupTarget | None = None
) -> list[BackupInfo]:
    """Return the stored backups with a manifest, newest first."""
    target = target or in_data_storage(storage)
    infos = []
    for item in await target.storage.list(target.prefix + "meatdb-"):
        if item.key.endswith(".json") and not item.key.endswith(".objects.json"):
            try:
                data: dict[str, Any] = json.loads(await target.storage.get_bytes(item.key))
            except ObjectNotFound:
                continue  # pruned between the listing and this read
            infos.append(BackupInfo(**data))
    return sorted(infos, key=lambda i: i.created_at, reverse=True)


async def list_configured(
    settings: Settings, storage: ObjectStorage
) -> tuple[list[BackupInfo], str | None]:
    """Return the backups in BACKUP_TARGET (or the data storage), or none and why."""
    try:
        async with backup_target(settings, storage) as target:
            return await list_backups(storage, target), None
    except StorageError as exc:
        return [], str(exc)


async def _database_is_empty(engine: AsyncEngine) -> bool:
    counts = await row_counts(engine)
    return not any(counts.values())


async def _storage_is_empty(storage: ObjectStorage) -> bool:
    return not any(objects.is_backed_up(item.key) for item in await storage.list(""))


async def restore_backup(
    *,
    database_url: str,
    storage: ObjectStorage,
    key: str,
    force: bool = False,
    target: BackupTarget | None = None,
) -> dict[str, int]:
    """Restore a backup's objects and database together, all verified, then migrate.

    Returns the row counts. Nothing is left half-restored: a missing or damaged object or a
    failed database load removes the objects this restore added and raises BackupError.
    """
    target = target or in_data_storage(storage)
    try:
        manifest = json.loads(await target.storage.get_bytes(manifest_key(key)))
    except ObjectNotFound:
        raise BackupError(
            f"no backup manifest for {key!r}; `meatlizard backups` lists them"
        ) from None
    info = BackupInfo(**manifest)
    backend = _backend(database_url)
    if info.backend != backend:
        raise BackupError(f"{key} is a {info.backend} backup; this database is {backend}")
    try:
        entries = await _listing(target, info)
    except ObjectNotFound:
        raise BackupError(f"{key}: its object manifest is missing from the backup target") from None
    engine = make_engine(database_url)
    try:
        if not force and not await _database_is_empty(engine):
            raise BackupError(
                "the database is not empty; restore into an empty one or pass --force "
                "to replace everything in it"
            )
        if not force and not await _storage_is_empty(storage):
            raise BackupError(
                "the object storage is not empty; restore into an empty one or pass --force "
                "to overwrite the objects the backup holds"
            )
        await engine.dispose()
        with tempfile.TemporaryDirectory(prefix="meatlizard-restore-") as tmp:
            dump = Path(tmp) / "dump.gz"
            await _fetch_dump(target, info, dump)
            added = await _restore_objects(storage, target, entries)
            try:
                if backend == "postgresql":
                    await dumps.load_postgres(database_url, dump)
                else:
                    dumps.load_sqlite(database_url, dump)
            except dumps.DumpError as exc:
                await objects.remove(storage, added)
                raise BackupError(str(exc)) from exc
        engine = make_engine(database_url)
        await upgrade(engine)
        return await row_counts(engine)
    finally:
        await engine.dispose()


async def _fetch_dump(target: BackupTarget, info: BackupInfo, dump: Path) -> None:
    try:
        with dump.open("wb") as out:
            async for chunk in await target.storage.open_stream(info.key):
                out.write(chunk)
    except ObjectNotFound:
        raise BackupError(f"{info.key} is missing from the backup target") from None
    if _sha256(dump) != info.sha256:
        raise BackupError(f"{info.key} is corrupted: its checksum does not match the manifest")


async def _restore_objects(
    storage: ObjectStorage, target: BackupTarget, entries: list[dict[str, Any]]
) -> list[str]:
    try:
        await objects.check_objects(target, entries)  # before anything is written
        return await objects.restore_objects(storage, target, entries)
    except objects.ObjectsError as exc:
        raise BackupError(f"nothing was restored: {exc}") from exc
