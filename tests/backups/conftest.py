"""Fixtures for the backup tests: empty databases, separate targets and a small real video."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio

from meatlizard.backups.target import BackupTarget
from meatlizard.core.storage import LocalStorage, ObjectStorage
from meatlizard.runtime import Services
from meatlizard.videos.transcode import tools_missing
from tests.fixtures.backends import empty_bucket
from tests.fixtures.databases import new_postgres_database
from tests.fixtures.seaweedfs import S3Endpoint, s3_storage
from tests.videos.helpers import make_sample


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 2 s 640x360 clip with sound, made with ffmpeg's test sources."""
    if tools_missing():
        pytest.skip(f"video tests need ffmpeg: {tools_missing()} (make ffmpeg installs it)")
    return make_sample(tmp_path_factory.mktemp("video") / "clip.mp4", "640x360", 2)


@pytest_asyncio.fixture
async def empty_database(services: Services, tmp_path: Path) -> AsyncIterator[str]:
    """A brand-new, empty database of the same kind as the test's."""
    url = services.settings.effective_database_url
    if url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    async with new_postgres_database(url, "restore") as fresh:
        yield fresh


@pytest_asyncio.fixture
async def fresh_storage(
    request: pytest.FixtureRequest, services: Services, tmp_path: Path
) -> AsyncIterator[ObjectStorage]:
    """An empty data storage of the test's kind: a new folder, or a new bucket."""
    if services.settings.s3_bucket_name is None:
        yield LocalStorage(tmp_path / "fresh" / "storage")
        return
    endpoint: S3Endpoint = request.getfixturevalue("seaweedfs_s3")
    storage = s3_storage(endpoint, f"ml-fresh-{uuid4().hex[:10]}")
    await storage.prepare()
    try:
        yield storage
    finally:
        await empty_bucket(storage)
        await storage.close()


@pytest_asyncio.fixture
async def separate_target(
    request: pytest.FixtureRequest, services: Services, tmp_path: Path
) -> AsyncIterator[BackupTarget]:
    """A backup target off the data storage: a folder, or a prefix in another bucket."""
    if services.settings.s3_bucket_name is None:
        yield BackupTarget(LocalStorage(tmp_path / "other-disk"), "", separate=True)
        return
    endpoint: S3Endpoint = request.getfixturevalue("seaweedfs_s3")
    storage = s3_storage(endpoint, f"ml-backups-{uuid4().hex[:10]}")
    await storage.prepare()
    try:
        yield BackupTarget(storage, "site/", separate=True)
    finally:
        await empty_bucket(storage)
        await storage.close()
