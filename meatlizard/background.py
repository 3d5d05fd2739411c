"""`meatlizard worker`: the background process (video transcodes, scheduled backups)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from meatlizard.backups.schedule import run_schedule
from meatlizard.backups.target import open_target
from meatlizard.core.db import make_engine, make_session_factory
from meatlizard.core.settings import Settings
from meatlizard.core.storage import storage_from_settings
from meatlizard.videos.jobs import VideoJobs

log = logging.getLogger(__name__)


async def run_background(settings: Settings) -> None:
    """Run every configured job until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    storage = storage_from_settings(settings)
    await storage.prepare()
    try:
        target = await open_target(settings, storage)  # a bad BACKUP_TARGET stops us here
    except Exception:
        await storage.close()
        raise
    engine = make_engine(settings.effective_database_url)
    videos = VideoJobs(make_session_factory(engine), storage, settings)
    jobs: list[Coroutine[Any, Any, Any]] = [videos.run_forever(stop)]
    log.info("transcoding queued videos as %s", videos.worker_id)
    if settings.backup_schedule:
        log.info(
            "scheduled backups: %s (UTC) to %s",
            settings.backup_schedule,
            settings.backup_target or "the data storage (set BACKUP_TARGET)",
        )
        jobs.append(
            run_schedule(
                cron=settings.backup_schedule,
                database_url=settings.effective_database_url,
                storage=storage,
                keep_daily=settings.backup_keep_daily,
                keep_weekly=settings.backup_keep_weekly,
                stop=stop,
                target=target,
            )
        )
    else:
        log.info("no scheduled backups (set BACKUP_SCHEDULE, e.g. '0 3 * * *')")
    try:
        await asyncio.gather(*jobs)
    finally:
        if target.separate:
            await target.storage.close()
        await storage.close()
        await engine.dispose()
