"""Backups to object storage and restores into empty databases, on both backend families."""

from __future__ import annotations

import pytest

from meatlizard.auth import service as auth_service
from meatlizard.backups.service import (
    BackupError,
    create_backup,
    list_backups,
    restore_backup,
    row_counts,
)
from meatlizard.chat import service as chat_service
from meatlizard.chat.schemas import SessionCreate
from meatlizard.core.db import make_engine
from meatlizard.runtime import Services
from tests.backups.helpers import content_digest
from tests.helpers import PASSWORD, unique_name


async def _fill(services: Services) -> None:
    async with services.sessions() as db:
        for _ in range(3):
            user = await auth_service.register(db, username=unique_name(), password=PASSWORD)
            session = await chat_service.create_session(
                db,
                user=user,
                data=SessionCreate(preset="poet"),
                aliases=["smollm2"],
                default_alias="smollm2",
            )
            await chat_service.add_user_message(db, session=session, content='hé, "quoted"\nline')


async def test_backup_then_restore_into_an_empty_database(
    services: Services, empty_database: str
) -> None:
    await _fill(services)
    source_url = services.settings.effective_database_url
    info = await create_backup(database_url=source_url, storage=services.storage)
    assert info.key.startswith("backups/meatdb-")
    assert info.key.endswith(".sql.gz" if source_url.startswith("postgresql") else ".sqlite.gz")
    assert info.row_counts["users"] == 3
    assert [b.key for b in await list_backups(services.storage)] == [info.key]

    counts = await restore_backup(
        database_url=empty_database, storage=services.storage, key=info.key
    )
    assert counts == info.row_counts
    assert await content_digest(empty_database) == await content_digest(source_url)


async def test_restore_refuses_a_corrupted_backup(services: Services, empty_database: str) -> None:
    await _fill(services)
    info = await create_backup(
        database_url=services.settings.effective_database_url, storage=services.storage
    )
    original = await services.storage.get_bytes(info.key)
    await services.storage.put_bytes(info.key, original[:-10] + b"0123456789")
    with pytest.raises(BackupError, match="corrupted"):
        await restore_backup(database_url=empty_database, storage=services.storage, key=info.key)
    engine = make_engine(empty_database)
    try:
        assert not any((await row_counts(engine)).values())  # nothing was written
    finally:
        await engine.dispose()


async def test_restore_refuses_a_database_with_data_unless_forced(services: Services) -> None:
    await _fill(services)
    url = services.settings.effective_database_url
    info = await create_backup(database_url=url, storage=services.storage)
    async with services.sessions() as db:
        await auth_service.register(db, username=unique_name(), password=PASSWORD)
    with pytest.raises(BackupError, match="not empty"):
        await restore_backup(database_url=url, storage=services.storage, key=info.key)
    await services.engine.dispose()  # the restore replaces the database under us
    counts = await restore_backup(
        database_url=url, storage=services.storage, key=info.key, force=True
    )
    assert counts["users"] == 3


async def test_unknown_backup_is_a_clear_error(services: Services) -> None:
    with pytest.raises(BackupError, match="no backup manifest"):
        await restore_backup(
            database_url=services.settings.effective_database_url,
            storage=services.storage,
            key="backups/meatdb-1999-01-01T00:00:00Z.sql.gz",
        )


async def test_admin_api_backs_up_and_lists(client: object) -> None:
    import httpx

    from tests.helpers import bearer, user_token

    assert isinstance(client, httpx.AsyncClient)
    admin = await user_token(client)
    member = await user_token(client)
    assert (await client.post("/api/v1/admin/backups", headers=bearer(member))).status_code == 403
    made = await client.post("/api/v1/admin/backups", headers=bearer(admin))
    assert made.status_code == 201
    listed = (await client.get("/api/v1/admin/backups", headers=bearer(admin))).json()
    assert [b["key"] for b in listed] == [made.json()["key"]]
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert audit[0]["action"] == "backup.create"
    page = await client.get("/admin", headers=bearer(admin))
    assert made.json()["key"] in page.text
    assert 'id="backup-warning"' in page.text  # no BACKUP_TARGET: the backups die with the data
