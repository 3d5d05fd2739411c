"""The two-backend object storage fixture shared by the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio

from meatlizard.core.storage import LocalStorage, ObjectStorage
from meatlizard.core.storage.s3 import S3Storage
from tests.fixtures.seaweedfs import s3_storage


@pytest_asyncio.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStorage]:
    """An empty storage: a fresh folder, or a fresh uniquely named bucket."""
    store: ObjectStorage
    if request.param == "local":
        store = LocalStorage(tmp_path / "storage")
    else:
        store = s3_storage(request.getfixturevalue("seaweedfs_s3"), f"test-{uuid4().hex[:16]}")
    await store.prepare()
    try:
        yield store
    finally:
        if isinstance(store, S3Storage):
            # Each bucket holds SeaweedFS volumes: drop it so a long run does not pile them up.
            for info in await store.list(""):
                await store.delete(info.key)
            client = await store.client()
            await client.delete_bucket(Bucket=store.bucket)
        await store.close()
