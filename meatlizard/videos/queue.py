"""The transcode queue lives in the videos table: claims, heartbeats, progress and outcomes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.core.db import utcnow
from meatlizard.core.errors import TooLarge
from meatlizard.files.policy import FilePolicy
from meatlizard.files.quotas import lock_owner, mib, quota_of, used_by
from meatlizard.videos.models import FAILED, PROCESSING, QUEUED, READY, Video

STALE_SECONDS = 120.0  # a claim whose heartbeat is older belongs to a dead process
CLAIM_BATCH = 5


def _claimable(cutoff: Any) -> Any:
    stale = and_(Video.status == PROCESSING, Video.heartbeat_at < cutoff)
    return or_(Video.status == QUEUED, stale)


async def give_up_on_crashes(db: AsyncSession, *, max_attempts: int) -> int:
    """Fail videos whose transcode died `max_attempts` times, so none is silently dropped."""
    cutoff = utcnow() - timedelta(seconds=STALE_SECONDS)
    result = await db.execute(
        update(Video)
        .where(Video.status == PROCESSING, Video.heartbeat_at < cutoff)
        .where(Video.attempts >= max_attempts)
        .values(
            status=FAILED,
            claimed_by=None,
            error=f"the transcoder stopped without finishing {max_attempts} times "
            "(the process crashed or was killed); press Retry to try again",
        )
    )
    await db.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_next(db: AsyncSession, *, worker_id: str, max_attempts: int) -> Video | None:
    """Claim the oldest queued (or abandoned) video for this worker; None when there is none.

    The claim is a conditional UPDATE on the row's status, so exactly one process wins it.
    """
    await give_up_on_crashes(db, max_attempts=max_attempts)
    cutoff = utcnow() - timedelta(seconds=STALE_SECONDS)
    candidates = await db.scalars(
        select(Video.id).where(_claimable(cutoff)).order_by(Video.created_at).limit(CLAIM_BATCH)
    )
    for video_id in list(candidates):
        now = utcnow()
        result = await db.execute(
            update(Video)
            .where(Video.id == video_id, _claimable(cutoff))
            .values(
                status=PROCESSING,
                claimed_by=worker_id,
                heartbeat_at=now,
                started_at=now,
                attempts=Video.attempts + 1,
                progress=0.0,
                error=None,
            )
        )
        await db.commit()
        if getattr(result, "rowcount", 0) == 1:
            return await db.get(Video, video_id, populate_existing=True)
    return None


def _mine(video_id: str, worker_id: str) -> Any:
    return and_(Video.id == video_id, Video.claimed_by == worker_id, Video.status == PROCESSING)


async def beat(db: AsyncSession, *, video_id: str, worker_id: str, progress: float | None) -> bool:
    """Refresh the claim (and store progress); return False if the claim was lost."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    result = await db.execute(update(Video).where(_mine(video_id, worker_id)).values(**values))
    await db.commit()
    return getattr(result, "rowcount", 0) == 1


async def finish(
    db: AsyncSession, *, video_id: str, worker_id: str, values: dict[str, Any]
) -> bool:
    """Mark the claimed video ready with its renditions; False if it was deleted meanwhile."""
    result = await db.execute(
        update(Video)
        .where(_mine(video_id, worker_id))
        .values(status=READY, progress=1.0, claimed_by=None, finished_at=utcnow(), **values)
    )
    await db.commit()
    return getattr(result, "rowcount", 0) == 1


async def fail(db: AsyncSession, *, video_id: str, worker_id: str, reason: str) -> None:
    """Mark the claimed video failed with the reason shown to its owner."""
    await db.execute(
        update(Video)
        .where(_mine(video_id, worker_id))
        .values(status=FAILED, claimed_by=None, error=reason, finished_at=utcnow(), storage_bytes=0)
    )
    await db.commit()


async def release(db: AsyncSession, *, video_id: str, worker_id: str) -> None:
    """Put a claimed video back in the queue (this process is stopping)."""
    await db.execute(
        update(Video)
        .where(_mine(video_id, worker_id))
        .values(
            status=QUEUED,
            claimed_by=None,
            progress=0.0,
            attempts=Video.attempts - 1,
            storage_bytes=0,
        )
    )
    await db.commit()


async def reserve(
    db: AsyncSession, *, video_id: str, worker_id: str, size: int, policy: FilePolicy
) -> bool:
    """Reserve `size` bytes of the owner's quota for the renditions; False if the claim is lost.

    Raises TooLarge when they would not fit. Decided under the owner's lock, as uploads are.
    """
    video = await db.get(Video, video_id, populate_existing=True)
    if video is None or video.claimed_by != worker_id or video.status != PROCESSING:
        await db.rollback()
        return False
    await lock_owner(db, video.owner_id)
    used = await used_by(db, video.owner_id) - video.storage_bytes  # not this video's own
    quota = await quota_of(db, video.owner_id, policy)
    if used + size > quota:
        await db.rollback()
        raise TooLarge(
            f"storage quota exceeded: the renditions of this video need about {mib(size)} "
            f"(estimated from its length and bitrates) but only {mib(max(0, quota - used))} "
            f"of your quota of {mib(quota)} is free; delete some files or videos and retry"
        )
    video.storage_bytes = size
    await db.commit()
    return True
