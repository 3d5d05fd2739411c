"""Stored objects in backups: incremental, content-addressed copies, and their verified return."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from meatlizard.backups.target import DATA_STORAGE_PREFIX, BackupTarget
from meatlizard.core.storage import ObjectNotFound, ObjectStorage
from meatlizard.core.storage.base import RESERVED_PREFIX

CHUNK = 1024 * 1024
# An unreferenced copy younger than this may belong to a backup still being written.
ORPHAN_GRACE = timedelta(hours=6)


class ObjectsError(Exception):
    """An object could not be backed up or restored; the message names it."""


@dataclass(frozen=True)
class Copied:
    """What one backup's object pass did."""

    listing: bytes  # the JSON manifest: every object with size, sha256 and content type
    count: int
    copied: int
    copied_bytes: int


def _listing(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"objects": entries, "count": len(entries)}, indent=1).encode()


def parse_listing(data: bytes) -> list[dict[str, Any]]:
    """Return the objects of a manifest written by back_up_objects.

    Listings from before objects were copied have no checksums and hold nothing to restore.
    """
    entries: list[dict[str, Any]] = json.loads(data)["objects"]
    return [entry for entry in entries if "sha256" in entry]


def is_backed_up(key: str) -> bool:
    """Whether a data object belongs in backups.

    Not the backups kept in the data storage, nor upload state (S3 tails under reserved
    names): an unfinished upload is swept, not restored.
    """
    if key.startswith(DATA_STORAGE_PREFIX):
        return False
    return not any(segment.startswith(RESERVED_PREFIX) for segment in key.split("/"))


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


async def _download(storage: ObjectStorage, key: str, path: Path) -> tuple[int, str]:
    """Copy an object into a local file; return its size and sha256."""
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        async for chunk in await storage.open_stream(key):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


async def back_up_objects(
    data: ObjectStorage, target: BackupTarget, previous: list[dict[str, Any]]
) -> Copied:
    """Copy every data object the target lacks; unchanged ones (same key, size, time) are skipped.

    `previous` is the newest backup's listing: its checksums spare re-reading unchanged objects.
    """
    known = {(e["key"], e["size"], e["modified"]): e for e in previous}
    present = {info.key: info.size for info in await target.storage.list(target.blobs)}
    entries: list[dict[str, Any]] = []
    copied = copied_bytes = 0
    with tempfile.TemporaryDirectory(prefix="meatlizard-objects-") as tmp:
        staging = Path(tmp) / "object"
        for item in await data.list(""):
            if not is_backed_up(item.key):
                continue
            modified = item.modified.isoformat()
            entry = known.get((item.key, item.size, modified))
            if entry and present.get(target.blob_key(entry["sha256"])) == item.size:
                entries.append(entry)
                continue
            try:
                content_type = (await data.stat(item.key)).content_type
                size, sha256 = await _download(data, item.key, staging)
            except ObjectNotFound:
                continue  # deleted while we listed; its database row went with it
            blob = target.blob_key(sha256)
            if present.get(blob) != size:
                await target.storage.put_stream(blob, _chunks(staging))
                present[blob] = size
                copied, copied_bytes = copied + 1, copied_bytes + size
            entries.append(
                {
                    "key": item.key,
                    "size": size,
                    "sha256": sha256,
                    "content_type": content_type,
                    "modified": modified,
                }
            )
    return Copied(_listing(entries), len(entries), copied, copied_bytes)


def merge(first: Copied, second: Copied) -> Copied:
    """Join two passes of one backup: every object either saw, the later entry winning."""
    entries = {e["key"]: e for e in parse_listing(first.listing)}
    entries.update((e["key"], e) for e in parse_listing(second.listing))
    ordered = [entries[key] for key in sorted(entries)]
    return Copied(
        _listing(ordered),
        len(ordered),
        first.copied + second.copied,
        first.copied_bytes + second.copied_bytes,
    )


async def check_objects(target: BackupTarget, entries: list[dict[str, Any]]) -> None:
    """Raise ObjectsError unless every object's copy is in the target with the right size."""
    present = {info.key: info.size for info in await target.storage.list(target.blobs)}
    for entry in entries:
        size = present.get(target.blob_key(entry["sha256"]))
        if size is None:
            raise ObjectsError(f"object {entry['key']!r} is missing from the backup target")
        if size != entry["size"]:
            raise ObjectsError(
                f"object {entry['key']!r} is damaged in the backup target: "
                f"{size} bytes instead of {entry['size']}"
            )


async def restore_objects(
    data: ObjectStorage, target: BackupTarget, entries: list[dict[str, Any]]
) -> list[str]:
    """Put every object back, each checked against its checksum; return the keys written.

    On any failure the objects it added are removed again and ObjectsError is raised.
    """
    before = {info.key for info in await data.list("")}
    written: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="meatlizard-restore-objects-") as tmp:
            staging = Path(tmp) / "object"
            for entry in entries:
                try:
                    size, sha256 = await _download(
                        target.storage, target.blob_key(entry["sha256"]), staging
                    )
                except ObjectNotFound:
                    raise ObjectsError(
                        f"object {entry['key']!r} is missing from the backup target"
                    ) from None
                if (size, sha256) != (entry["size"], entry["sha256"]):
                    raise ObjectsError(
                        f"object {entry['key']!r} is damaged in the backup target: "
                        "its checksum does not match the manifest"
                    )
                content_type = entry.get("content_type") or "application/octet-stream"
                await data.put_stream(entry["key"], _chunks(staging), content_type=content_type)
                if entry["key"] not in before:
                    written.append(entry["key"])
    except BaseException:
        await remove(data, written)
        raise
    return written


async def remove(data: ObjectStorage, keys: list[str]) -> None:
    """Delete objects a failed restore had added."""
    for key in keys:
        await data.delete(key)


async def delete_orphans(
    target: BackupTarget, referenced: set[str], *, grace: timedelta = ORPHAN_GRACE
) -> int:
    """Delete object copies no kept backup references (older than `grace`); return how many."""
    cutoff = datetime.now(UTC) - grace
    removed = 0
    for info in await target.storage.list(target.blobs):
        sha256 = info.key.rsplit("/", 1)[-1]
        if sha256 not in referenced and info.modified <= cutoff:
            await target.storage.delete(info.key)
            removed += 1
    return removed
