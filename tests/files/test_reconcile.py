"""Objects that no file row names (a crash between the write and the commit) are removed."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from meatlizard.core.db import utcnow
from meatlizard.files.models import StoredFile
from meatlizard.files.reconcile import OrphanReconciler, remove_orphans
from meatlizard.runtime import Services
from tests.files.helpers import create, upload
from tests.helpers import user_token

ORPHAN = b"an object whose row never committed"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"files_orphan_grace_seconds": 0}


async def test_objects_without_a_row_are_removed_and_files_kept(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, b"a file with its row")
    async with services.sessions() as db:
        kept = await db.get(StoredFile, file_id)
        assert kept is not None
    unfinished = await create(client, token, 10)  # in progress: its row names its key too
    assert unfinished.status_code == 201
    orphan_key = f"files/{kept.owner_id}/orphan-after-a-crash"
    await services.storage.put_bytes(orphan_key, ORPHAN)

    reconciler = OrphanReconciler(
        services.sessions,
        services.storage,
        timedelta(seconds=services.settings.files_orphan_grace_seconds),
    )
    assert await reconciler.sweep_once() == 1
    assert not await services.storage.exists(orphan_key)
    assert await services.storage.exists(kept.storage_key)
    download = await client.get(f"/f/{file_id}/raw", headers={"Authorization": f"Bearer {token}"})
    assert download.content == b"a file with its row"
    assert await reconciler.sweep_once() == 0


async def test_young_objects_are_left_alone(services: Services) -> None:
    key = "files/1/committing-right-now"
    await services.storage.put_bytes(key, ORPHAN)
    async with services.sessions() as db:
        assert await remove_orphans(db, services.storage, grace=timedelta(hours=1)) == []
        assert await services.storage.exists(key)
        later = utcnow() + timedelta(hours=1, seconds=1)
        assert await remove_orphans(db, services.storage, grace=timedelta(hours=1), now=later) == [
            key
        ]
    assert not await services.storage.exists(key)
