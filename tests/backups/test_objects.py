"""Stored objects in backups: incremental copies, retention, and restores that refuse damage."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from meatlizard.backups import dumps
from meatlizard.backups.schedule import prune
from meatlizard.backups.service import (
    BackupError,
    create_backup,
    list_backups,
    restore_backup,
    row_counts,
)
from meatlizard.backups.target import BackupTarget
from meatlizard.core.db import make_engine
from meatlizard.core.storage import ObjectStorage
from meatlizard.runtime import Services


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_second_backup_copies_only_new_objects(
    services: Services, separate_target: BackupTarget
) -> None:
    storage, url = services.storage, services.settings.effective_database_url
    await storage.put_bytes("files/a/one.bin", b"1" * 3000)
    await storage.put_bytes("transcripts/t/transcript.json", b'{"a": 1}')
    first = await create_backup(database_url=url, storage=storage, target=separate_target)
    assert (first.objects_count, first.objects_copied) == (2, 2)
    assert first.objects_copied_bytes == 3008

    await storage.put_bytes("files/b/two.bin", b"2" * 500)
    second = await create_backup(database_url=url, storage=storage, target=separate_target)
    assert (second.objects_count, second.objects_copied, second.objects_copied_bytes) == (3, 1, 500)
    assert second.key != first.key and second.key.startswith(separate_target.prefix + "meatdb-")
    assert second.objects_key is not None
    listing = json.loads(await separate_target.storage.get_bytes(second.objects_key))
    assert {o["key"]: (o["size"], o["sha256"]) for o in listing["objects"]} == {
        "files/a/one.bin": (3000, _sha(b"1" * 3000)),
        "files/b/two.bin": (500, _sha(b"2" * 500)),
        "transcripts/t/transcript.json": (8, _sha(b'{"a": 1}')),
    }
    # Nothing went into the data storage: the backups live only in the target.
    assert [i.key for i in await storage.list("")] == [
        "files/a/one.bin",
        "files/b/two.bin",
        "transcripts/t/transcript.json",
    ]
    third = await create_backup(database_url=url, storage=storage, target=separate_target)
    assert (third.objects_count, third.objects_copied) == (3, 0)


async def test_backups_in_the_data_storage_skip_themselves(services: Services) -> None:
    storage, url = services.storage, services.settings.effective_database_url
    await storage.put_bytes("files/a/one.bin", b"1" * 100)
    first = await create_backup(database_url=url, storage=storage)
    second = await create_backup(database_url=url, storage=storage)
    assert first.key.startswith("backups/meatdb-")
    assert (second.objects_count, second.objects_copied) == (1, 0)


async def test_retention_never_deletes_an_object_a_kept_backup_holds(
    services: Services, separate_target: BackupTarget
) -> None:
    storage, url = services.storage, services.settings.effective_database_url
    target = separate_target
    await storage.put_bytes("files/old.bin", b"old")
    await storage.put_bytes("files/kept.bin", b"kept")
    old = await create_backup(database_url=url, storage=storage, target=target)
    await storage.delete("files/old.bin")
    new = await create_backup(database_url=url, storage=storage, target=target)

    # Fresh orphans are spared: they may belong to a backup still being written.
    await prune(storage, keep_daily=1, keep_weekly=0, target=target)
    assert [b.key for b in await list_backups(storage, target)] == [new.key]
    assert await target.storage.exists(target.blob_key(_sha(b"old")))

    await prune(storage, keep_daily=1, keep_weekly=0, target=target, grace=timedelta(0))
    assert not await target.storage.exists(target.blob_key(_sha(b"old")))
    assert await target.storage.exists(target.blob_key(_sha(b"kept")))
    assert not await target.storage.exists(old.key)
    assert old.objects_key and not await target.storage.exists(old.objects_key)


@pytest.mark.parametrize("damage", ["missing", "damaged"])
async def test_restore_refuses_a_missing_or_damaged_object(
    services: Services,
    separate_target: BackupTarget,
    empty_database: str,
    fresh_storage: ObjectStorage,
    damage: str,
) -> None:
    storage, url = services.storage, services.settings.effective_database_url
    await storage.put_bytes("files/a.bin", b"a" * 64)
    await storage.put_bytes("files/b.bin", b"b" * 64)
    info = await create_backup(database_url=url, storage=storage, target=separate_target)
    blob = separate_target.blob_key(_sha(b"b" * 64))
    if damage == "missing":
        await separate_target.storage.delete(blob)
    else:
        await separate_target.storage.put_bytes(blob, b"B" * 64)  # same size, other bytes
    fresh = fresh_storage
    with pytest.raises(
        BackupError, match=f"nothing was restored: object 'files/b.bin' is {damage}"
    ):
        await restore_backup(
            database_url=empty_database, storage=fresh, key=info.key, target=separate_target
        )
    assert await fresh.list("") == []  # no object left behind
    engine = make_engine(empty_database)
    try:
        assert not any((await row_counts(engine)).values())  # and no rows
    finally:
        await engine.dispose()


async def test_an_upload_in_progress_is_not_backed_up(
    services: Services, separate_target: BackupTarget
) -> None:
    storage = services.storage
    await storage.put_bytes("files/done.bin", b"done")
    token = await storage.begin_upload("files/partial.bin")
    await storage.append_upload("files/partial.bin", token, 0, _one(b"half" * 100))
    info = await create_backup(
        database_url=services.settings.effective_database_url,
        storage=storage,
        target=separate_target,
    )
    assert (info.objects_count, info.objects_copied) == (1, 1)
    await storage.abort_upload("files/partial.bin", token)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_an_object_stored_during_the_dump_is_in_the_backup(
    services: Services, separate_target: BackupTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, loop = services.storage, asyncio.get_running_loop()
    real_sqlite, real_postgres = dumps.dump_sqlite, dumps.dump_postgres

    def sqlite_meanwhile(url: str, target: Path) -> None:
        real_sqlite(url, target)
        upload = storage.put_bytes("files/late.bin", b"late")
        asyncio.run_coroutine_threadsafe(upload, loop).result(timeout=60)

    async def postgres_meanwhile(url: str, target: Path) -> None:
        await real_postgres(url, target)
        await storage.put_bytes("files/late.bin", b"late")

    monkeypatch.setattr(dumps, "dump_sqlite", sqlite_meanwhile)
    monkeypatch.setattr(dumps, "dump_postgres", postgres_meanwhile)
    await storage.put_bytes("files/early.bin", b"early")
    info = await create_backup(
        database_url=services.settings.effective_database_url,
        storage=storage,
        target=separate_target,
    )
    assert (info.objects_count, info.objects_copied) == (2, 2)
    assert info.objects_key is not None
    listing = json.loads(await separate_target.storage.get_bytes(info.objects_key))
    assert [o["key"] for o in listing["objects"]] == ["files/early.bin", "files/late.bin"]
