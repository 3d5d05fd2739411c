"""A populated site backed up to a separate target and restored onto a fresh machine."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from meatlizard.backups.service import create_backup, restore_backup
from meatlizard.backups.target import BackupTarget, target_from_settings
from meatlizard.core.settings import Settings
from meatlizard.core.storage import ObjectStorage
from meatlizard.runtime import Services
from tests.backups.helpers import content_digest
from tests.files.helpers import png_2x2, upload
from tests.helpers import bearer, create_session, user_token
from tests.links.helpers import create_link
from tests.videos.helpers import make_video, video_info

HLS = "application/vnd.apple.mpegurl"
TRANSCRIPT = "transcripts/backup-test/transcript.json"


async def _populate(client: httpx.AsyncClient, services: Services, clip: bytes) -> dict[str, str]:
    """Users, a chat, a paste, a link, a file and a transcoded video; return their ids."""
    token = await user_token(client)
    await user_token(client)
    session = await create_session(client, token, preset="poet")
    paste = await client.post(
        "/api/v1/pastes", json={"content": "print('kept')\n"}, headers=bearer(token)
    )
    assert paste.status_code == 201, paste.text
    await create_link(client, token)
    file_id = await upload(client, token, png_2x2(), "dot.png")
    video_id = (await make_video(client, token, clip, title="Backed up"))["id"]
    await services.jobs.drain()  # the transcode the POST started
    assert (await video_info(client, token, video_id))["status"] == "ready"
    await services.storage.put_bytes(TRANSCRIPT, b'{"messages": []}')
    return {"session": session["id"], "file": file_id, "video": video_id}


async def _objects(storage: ObjectStorage) -> dict[str, bytes]:
    return {item.key: await storage.get_bytes(item.key) for item in await storage.list("")}


async def _lose_the_machine(services: Services) -> None:
    """Remove every data object, so only the restored copies can answer."""
    for item in await services.storage.list(""):
        await services.storage.delete(item.key)


def _target(services: Services, separate: BackupTarget, tmp_path: Path) -> BackupTarget:
    """The separate target as BACKUP_TARGET settings describe it."""
    settings = services.settings
    if settings.s3_bucket_name is None:
        folder = tmp_path / "other-disk"
        return target_from_settings(
            Settings(data_dir=settings.data_dir, backup_target=str(folder)), services.storage
        )
    s3 = separate.storage
    values = {
        "backup_target": f"s3://{s3.bucket}/{separate.prefix}",  # type: ignore[attr-defined]
        "backup_s3_endpoint_url": settings.s3_endpoint_url,
        "backup_s3_access_key_id": settings.s3_access_key_id,
        "backup_s3_secret_access_key": settings.s3_secret_access_key,
        "backup_s3_region": settings.s3_region,
    }
    return target_from_settings(Settings(data_dir=settings.data_dir, **values), services.storage)


async def test_restore_onto_a_fresh_machine_brings_every_row_and_object_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    services: Services,
    sample_clip: bytes,
    separate_target: BackupTarget,
    empty_database: str,
    fresh_storage: ObjectStorage,
    tmp_path: Path,
) -> None:
    ids = await _populate(client, services, sample_clip)
    source_url = services.settings.effective_database_url
    source_rows = await content_digest(source_url)
    source_objects = await _objects(services.storage)
    assert any(key.startswith("videos/") and key.endswith(".m3u8") for key in source_objects)
    assert TRANSCRIPT in source_objects
    target = _target(services, separate_target, tmp_path)
    try:
        info = await create_backup(database_url=source_url, storage=services.storage, target=target)
        assert info.objects_count == info.objects_copied == len(source_objects)
        for table in ("users", "chat_sessions", "pastes", "links", "files", "videos"):
            assert info.row_counts[table] >= 1, table
        await _lose_the_machine(services)

        counts = await restore_backup(
            database_url=empty_database, storage=fresh_storage, key=info.key, target=target
        )
    finally:
        if target.storage is not separate_target.storage:
            await target.storage.close()
    assert counts == info.row_counts
    assert await content_digest(empty_database) == source_rows
    assert await _objects(fresh_storage) == source_objects

    # The restored site: the new database and the new folder (fresh_storage's) or bucket.
    update: dict[str, object] = {"database_url": empty_database, "data_dir": tmp_path / "fresh"}
    if services.settings.s3_bucket_name is not None:
        update["s3_bucket_name"] = fresh_storage.bucket  # type: ignore[attr-defined]
    restored = Services.build(
        services.settings.model_copy(update=update), inference=services.inference
    )
    app.state.services = restored
    try:
        raw = await client.get(f"/f/{ids['file']}/raw")
        assert raw.status_code == 200 and raw.content == png_2x2()
        master = await client.get(f"/v/{ids['video']}/hls/master.m3u8")
        assert master.status_code == 200 and master.headers["content-type"] == HLS
        variant = next(line for line in master.text.splitlines() if line.endswith(".m3u8"))
        playlist = await client.get(f"/v/{ids['video']}/hls/{variant}")
        assert playlist.status_code == 200 and "#EXT-X-ENDLIST" in playlist.text
    finally:
        app.state.services = services
        await restored.storage.close()
        await restored.cache.close()
        await restored.engine.dispose()
