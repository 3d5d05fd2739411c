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
from meatlizard.core.models import Base
from meatlizard.core.storage import ObjectNotFound, ObjectStorage

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


def backup_key(backend: str, now: datetime | None = None) -> str:
    """Return `backups/meatdb-<UTC ISO timestamp>.sql.gz` (or `.sqlite.gz`)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{PREFIX}meatdb-{stamp}.{'sql' if backend == 'postgresql' else 'sqlite'}.gz"


def manifest_key(key: str) -> str:
    """Return the key of the JSON manifest stored next to a backup."""
    return key + ".json"


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


async def create_backup(*, database_url: str, storage: ObjectStorage) -> BackupInfo:
    """Dump the database, upload it and its manifest; nothing is left behind on failure."""
    backend = _backend(database_url)
    key = backup_key(backend)
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
        )
        await storage.put_stream(key, _file_chunks(dump), content_type="application/gzip")
    try:
        await storage.put_bytes(
            manifest_key(key),
            json.dumps(vars(info), indent=2).encode(),
            content_type="application/json",
        )
    except Exception:
        await storage.delete(key)  # a backup without its manifest cannot be verified
        raise
    return info


async def list_backups(storage: ObjectStorage) -> list[BackupInfo]:
    """Return the stored backups with a manifest, newest first."""
    infos = []
    for item in await storage.list(PREFIX):
        if item.key.endswith(".json"):
            data: dict[str, Any] = json.loads(await storage.get_bytes(item.key))
            infos.append(BackupInfo(**data))
    return sorted(infos, key=lambda i: i.key, reverse=True)


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
