"""The redirect hot path: a cache lookup, an atomic counter for capped links, no DB write."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.cache import Cache
from meatlizard.core.memo import DecodedMemo
from meatlizard.links.clicks import ClickRecorder
from meatlizard.links.models import Link

MISSING = b"-"
MISSING_TTL_SECONDS = 30.0  # unknown slugs are remembered briefly so probes skip the database
# Redirects are counted per link (clicks, statistics, meatlizard_redirects_total); an access
# log line each would cost more than the redirect itself, so they log only at DEBUG.
REDIRECT_LOG_LEVEL = logging.DEBUG
DECODED_MEMO_SIZE = 4096  # cached entries whose JSON this process has already decoded
DECODED_MEMO_BYTES = 16 * 1024 * 1024  # and their bytes, counted twice (key and decoded)
PERMANENT_MAX_AGE_SECONDS = 3600  # browsers cache 301/308; bounded so edits take effect


def cache_key(slug: str) -> str:
    """Return the cache key of a link's cached copy."""
    return f"link:{slug}"


@dataclass(frozen=True)
class CachedLink:
    """What a redirect needs to know about a link."""

    id: int
    slug: str
    url: str
    title: str
    enabled: bool
    expires_at: float | None  # POSIX seconds
    max_clicks: int | None
    protected: bool
    taken_down: bool = False

    def cache_control(self, status_code: int) -> str:
        """Return the Cache-Control of a redirect with this status."""
        if status_code in (301, 308):
            return f"public, max-age={PERMANENT_MAX_AGE_SECONDS}"
        return "private, no-store"

    def gone_reason(self, now: float) -> str | None:
        """Say why the link no longer redirects (before counting), or None."""
        if self.taken_down:
            return "This link was taken down by the moderators."
        if not self.enabled:
            return "This link has been disabled by its owner."
        if self.expires_at is not None and self.expires_at <= now:
            return "This link has expired."
        return None

    @classmethod
    def of(cls, link: Link) -> CachedLink:
        return cls(
            id=link.id,
            slug=link.slug,
            url=link.target_url,
            title=link.title,
            enabled=link.enabled,
            expires_at=link.expires_at.timestamp() if link.expires_at else None,
            max_clicks=link.max_clicks,
            protected=link.password_hash is not None,
            taken_down=link.taken_down,
        )


class LinkResolver:
    """Finds links by slug through the cache and enforces max clicks across processes."""

    def __init__(
        self,
        cache: Cache,
        sessions: async_sessionmaker[AsyncSession],
        clicks: ClickRecorder,
        ttl_seconds: float,
    ) -> None:
        self.cache = cache
        self.clicks = clicks
        self._sessions = sessions
        self._ttl = ttl_seconds
        # A capped link's click counter outlives its cached copy (renewed at every load and
        # click), so it never lapses while the copy is served; once both have lapsed, the next
        # load counts again from the stored clicks. Deleted links' counters go with time.
        self._counter_ttl = 2 * ttl_seconds
        self._loading: dict[str, asyncio.Task[CachedLink | None]] = {}
        self._decoded = DecodedMemo[CachedLink](
            max_bytes=DECODED_MEMO_BYTES, max_entries=DECODED_MEMO_SIZE, keep_seconds=ttl_seconds
        )

    @staticmethod
    def _key(slug: str) -> str:
        return cache_key(slug)

    @staticmethod
    def _counter(link_id: int) -> str:
        return f"link-clicks:{link_id}"

    async def lookup(self, slug: str) -> CachedLink | None:
        """Return the link, from the cache when possible."""
        raw = await self.cache.get(self._key(slug))
        if raw == MISSING:
            return None
        if raw is not None:
            return self._decode(raw)
        # One database load per slug at a time: a burst on a cold link waits for it.
        task = self._loading.get(slug)
        if task is None:
            task = asyncio.ensure_future(self._load(slug))
            self._loading[slug] = task
            task.add_done_callback(lambda _: self._loading.pop(slug, None))
        return await asyncio.shield(task)

    def _decode(self, raw: bytes) -> CachedLink:
        # Keyed by the cached bytes, so an edited link (new bytes) is decoded afresh.
        if raw in self._decoded:
            return self._decoded.get(raw)
        link = CachedLink(**json.loads(raw))
        self._decoded.put(raw, link, 2 * len(raw))
        return link

    async def _load(self, slug: str) -> CachedLink | None:
        async with self._sessions() as db:
            link = await db.scalar(select(Link).where(Link.slug == slug))
        if link is None:
            await self.cache.set(self._key(slug), MISSING, ttl_seconds=MISSING_TTL_SECONDS)
            return None
        found = CachedLink.of(link)
        if found.max_clicks is not None:
            # Counted so far: written clicks plus this process's buffer. Only the first
            # process to load the link seeds the shared counter; later loads keep it.
            people, bots = self.clicks.pending(found.id)
            seen = link.clicks + link.bot_clicks + people + bots
            counter = self._counter(found.id)
            seeded = await self.cache.set_if_absent(
                counter, str(seen).encode(), ttl_seconds=self._counter_ttl
            )
            if not seeded:
                await self.cache.touch(counter, ttl_seconds=self._counter_ttl)
        await self.cache.set(
            self._key(slug), json.dumps(asdict(found)).encode(), ttl_seconds=self._ttl
        )
        return found

    async def claim(self, link: CachedLink) -> bool:
        """Take one click from a capped link's allowance; False once it is used up."""
        if link.max_clicks is None:
            return True
        counter = self._counter(link.id)
        clicks = await self.cache.incr(counter, ttl_seconds=self._counter_ttl, renew=True)
        return clicks <= link.max_clicks

    async def forget(self, slug: str, *, link_id: int | None = None) -> None:
        """Drop the cached copy after an edit (and the counter, when the cap changed)."""
        await self.cache.delete(self._key(slug))
        if link_id is not None:
            await self.cache.delete(self._counter(link_id))
