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

from meatlizard.backups import dumps
from meatlizard.core.db import make_engine
from meatlizard.core.migrate import upgrade
from meatlizard.core.storage import ObjectNotFound, ObjectStorage
from meatlizard.tables import Base

PREFIX = "backups/"
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
    objects_key: str | None = None  # the object-storage manifest, when asked for


def backup_key(backend: str, now: datetime | None = None, *, precise: bool = False) -> str:
    """Return `backups/meatdb-<UTC ISO timestamp>.sql.gz` (or `.sqlite.gz`).

    `precise` adds milliseconds, for a second backup within the same second.
    """
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{now.microsecond // 1000:03d}" if precise else ""
    )
    return f"{PREFIX}meatdb-{stamp}Z.{'sql' if backend == 'postgresql' else 'sqlite'}.gz"


def manifest_key(key: str) -> str:
    """Return the key of the JSON manifest stored next to a backup."""
    return key + ".json"


def objects_manifest_key(key: str) -> str:
    """Return the key of the listing of stored objects taken with a backup."""
    return key + ".objects.json"


async def _objects_manifest(storage: ObjectStorage) -> bytes:
    """List every stored object (except backups) with its size and modification time."""
    items = [
        {
            "key": item.key,
            "size": item.size,
            "modified": item.modified.isoformat() if item.modified else None,
        }
        for item in await storage.list("")
        if not item.key.startswith(PREFIX)
    ]
    return json.dumps({"objects": items, "count": len(items)}, indent=1).encode()


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
    *, database_url: str, storage: ObjectStorage, include_objects: bool = False
) -> BackupInfo:
    """Dump the database, upload it and its manifest; nothing is left behind on failure.

    With `include_objects`, a listing of every stored object is saved next to it.
    """
    backend = _backend(database_url)
    key = backup_key(backend)
    if await storage.exists(manifest_key(key)):  # never overwrite an earlier backup
        key = backup_key(backend, precise=True)
    engine = make_engine(database_url)
    try:
        counts = await row_counts(engine)
    finally:
        await engine.dispose()
    with tempfile.TemporaryDirectory(prefix="meatlizard-backup-") as tmp:
        dump = Path(tmp) / "dump.gz"
        try:
            if backend == "postgresql":
                await dumps.dump_postgres(database_url, dump)
            else:
                await asyncio.to_thread(dumps.dump_sqlite, database_url, dump)
        except dumps.DumpError as exc:
            raise BackupError(str(exc)) from exc
        info = BackupInfo(
            key=key,
            size=dump.stat().st_size,
            sha256=_sha256(dump),
            backend=backend,
            created_at=datetime.now(UTC).isoformat(),
            row_counts=counts,
            objects_key=objects_manifest_key(key) if include_objects else None,
        )
        await storage.put_stream(key, _file_chunks(dump), content_type="application/gzip")
    try:
        if info.objects_key:
            await storage.put_bytes(
                info.objects_key, await _objects_manifest(storage), content_type="application/json"
            )
        await storage.put_bytes(
            manifest_key(key),
            json.dumps(vars(info), indent=2).encode(),
            content_type="application/json",
        )
    except Exception:
        await storage.delete(key)  # a backup without its manifest cannot be verified
        if info.objects_key:
            await storage.delete(info.objects_key)
        raise
    return info


async def list_backups(storage: ObjectStorage) -> list[BackupInfo]:
    """Return the stored backups with a manifest, newest first."""
    infos = []
    for item in await storage.list(PREFIX):
        if item.key.endswith(".json") and not item.key.endswith(".objects.json"):
            data: dict[str, Any] = json.loads(await storage.get_bytes(item.key))
            infos.append(BackupInfo(**data))
    return sorted(infos, key=lambda i: i.created_at, reverse=True)


async def _database_is_empty(engine: AsyncEngine) -> bool:
    counts = await row_counts(engine)
    return not any(counts.values())


async def restore_backup(
    *, database_url: str, storage: ObjectStorage, key: str, force: bool = False
) -> dict[str, int]:
    """Verify and restore a backup into this database, then migrate; return row counts."""
    try:
        manifest = json.loads(await storage.get_bytes(manifest_key(key)))
    except ObjectNotFound:
        raise BackupError(
            f"no backup manifest for {key!r}; `meatlizard backups` lists them"
        ) from None
    backend = _backend(database_url)
    if manifest["backend"] != backend:
        raise BackupError(f"{key} is a {manifest['backend']} backup; this database is {backend}")
    engine = make_engine(database_url)
    try:
        if not force and not await _database_is_empty(engine):
            raise BackupError(
                "the database is not empty; restore into an empty one or pass --force "
                "to replace everything in it"
            )
        with tempfile.TemporaryDirectory(prefix="meatlizard-restore-") as tmp:
            dump = Path(tmp) / "dump.gz"
            with dump.open("wb") as out:
                async for chunk in await storage.open_stream(key):
                    out.write(chunk)
            if _sha256(dump) != manifest["sha256"]:
                raise BackupError(f"{key} is corrupted: its checksum does not match the manifest")
            try:
                if backend == "postgresql":
                    await engine.dispose()
                    await dumps.load_postgres(database_url, dump)
                else:
                    await engine.dispose()
                    dumps.load_sqlite(database_url, dump)
            except dumps.DumpError as exc:
                raise BackupError(str(exc)) from exc
        engine = make_engine(database_url)
        await upgrade(engine)
        return await row_counts(engine)
    finally:
        await engine.dispose()
