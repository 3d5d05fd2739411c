"""Backup schedule and retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from meatlizard.backups import schedule
from meatlizard.backups.service import BackupInfo, list_backups
from meatlizard.core.settings import SettingsError, load_settings
from meatlizard.runtime import Services


def _backup(when: datetime) -> BackupInfo:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return BackupInfo(f"backups/meatdb-{stamp}.sqlite.gz", 1, "x", "sqlite", when.isoformat(), {})


def test_retention_keeps_newest_per_day_and_per_week() -> None:
    start = datetime(2026, 11, 24, 3, tzinfo=UTC)
    # Two backups a day for 30 days.
    backups = [_backup(start - timedelta(hours=12 * i)) for i in range(60)]
    doomed = schedule.backups_to_delete(backups, keep_daily=7, keep_weekly=4)
    kept = [b for b in backups if b not in doomed]
    kept_days = {datetime.fromisoformat(b.created_at).date() for b in kept}
    assert len(kept_days) >= 7
    newest_seven = {(start - timedelta(days=d)).date() for d in range(7)}
    assert newest_seven <= kept_days
    assert backups[0] in kept  # the newest is always kept
    weeks = {tuple(datetime.fromisoformat(b.created_at).isocalendar())[:2] for b in kept}
    assert len(weeks) == 4
    assert len(kept) < 7 + 4 + 1


def test_next_run_follows_cron_in_utc() -> None:
    after = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    assert schedule.next_run("0 3 * * *", after) == datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_bad_cron_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUP_SCHEDULE", "every day please")
    with pytest.raises(SettingsError, match="setting BACKUP_SCHEDULE: 'every day please'"):
        load_settings()


async def test_scheduled_run_backs_up_and_prunes(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        schedule, "next_run", lambda cron, after: after + timedelta(milliseconds=50)
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(
        schedule.run_schedule(
            cron="* * * * *",
            database_url=services.settings.effective_database_url,
            storage=services.storage,
            keep_daily=1,
            keep_weekly=0,
            stop=stop,
        )
    )
    for _ in range(400):  # hang guard only
        if len(await list_backups(services.storage)) >= 1 and runner.done() is False:
            break
        await asyncio.sleep(0.05)
    first = (await list_backups(services.storage))[0].key
    for _ in range(400):  # a second tick in another second (same day, so one is pruned)
        if any(b.key != first for b in await list_backups(services.storage)):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await runner
    kept = await list_backups(services.storage)
    assert len(kept) == 1
