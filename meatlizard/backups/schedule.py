"""Scheduled backups and their retention (keep N daily and M weekly)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from cronsim import CronSim

from meatlizard.backups.objects import ORPHAN_GRACE, delete_orphans
from meatlizard.backups.service import (
    BackupInfo,
    create_backup,
    list_backups,
    manifest_key,
    referenced_objects,
)
from meatlizard.backups.target import BackupTarget, in_data_storage
from meatlizard.core.storage import ObjectStorage
from meatlizard.core.tasks import wait_event

log = logging.getLogger(__name__)


def backups_to_delete(
    backups: list[BackupInfo], *, keep_daily: int, keep_weekly: int
) -> list[BackupInfo]:
    """Return the backups outside retention: newest per day for N days, per week for M weeks."""
    newest_first = sorted(backups, key=lambda b: b.created_at, reverse=True)
    keep: set[str] = set()
    days: list[str] = []
    weeks: list[tuple[int, int]] = []
    for backup in newest_first:
        when = datetime.fromisoformat(backup.created_at)
        day = when.date().isoformat()
        week = tuple(when.isocalendar())[:2]
        if day not in days and len(days) < keep_daily:
            days.append(day)
            keep.add(backup.key)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.append(week)  # type: ignore[arg-type]
            keep.add(backup.key)
    return [b for b in newest_first if b.key not in keep]


def next_run(cron: str, after: datetime) -> datetime:
    """Return the next time the cron expression fires after `after` (UTC)."""
    return next(CronSim(cron, after.astimezone(UTC).replace(tzinfo=None))).replace(tzinfo=UTC)


async def prune(
    storage: ObjectStorage,
    *,
    keep_daily: int,
    keep_weekly: int,
    target: BackupTarget | None = None,
    grace: timedelta = ORPHAN_GRACE,
) -> list[str]:
    """Delete backups outside retention, then object copies no kept backup references.

    The manifest goes first, so a half-done prune leaves no listed backup missing its parts.
    """
    target = target or in_data_storage(storage)
    removed = []
    backups = await list_backups(storage, target)
    doomed = backups_to_delete(backups, keep_daily=keep_daily, keep_weekly=keep_weekly)
    for backup in doomed:
        await target.storage.delete(manifest_key(backup.key))
        await target.storage.delete(backup.key)
        if backup.objects_key:
            await target.storage.delete(backup.objects_key)
        removed.append(backup.key)
    kept = [b for b in backups if b not in doomed]
    await delete_orphans(target, await referenced_objects(target, kept), grace=grace)
    return removed


async def run_schedule(
    *,
    cron: str,
    database_url: str,
    storage: ObjectStorage,
    keep_daily: int,
    keep_weekly: int,
    stop: asyncio.Event,
    target: BackupTarget | None = None,
) -> None:
    """Back up at every cron tick until `stop` is set; failures are logged and retried next tick."""
    while not stop.is_set():
        due = next_run(cron, datetime.now(UTC))
        delay = (due - datetime.now(UTC)).total_seconds()
        if await wait_event(stop, max(0.0, delay)):
            return
        try:
            info = await create_backup(database_url=database_url, storage=storage, target=target)
            removed = await prune(
                storage, keep_daily=keep_daily, keep_weekly=keep_weekly, target=target
            )
            log.info(
                "scheduled backup %s written (%d of %d objects copied); %d old ones pruned",
                info.key,
                info.objects_copied,
                info.objects_count,
                len(removed),
            )
        except Exception:
            log.exception("scheduled backup failed; the next tick tries again")
