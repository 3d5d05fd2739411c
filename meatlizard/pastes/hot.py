"""Shareable pastes kept in the cache, so a hot read makes no database round trip.

Only pastes anyone with the link may read are kept: public or unlisted, no password, not
burn-after-read, at most `MAX_ENTRY_BYTES` with their highlighting. Each entry carries its
expiry, checked on every read, and lives no longer than the paste. Deleting, taking down,
anonymising or deleting the owner's account (and any future edit: call `forget` once it
commits) replaces the entry by a short-lived tombstone: a reader that loaded the row just
before the change can then not put it back (entries are stored only where there is neither
an entry nor a tombstone, and only by a load that took less than `LOAD_WINDOW_SECONDS`,
well inside the tombstone's life). Every process sees the same entries and tombstones when
the cache is Redis. Changes made in the database behind the app's back show once the entry
lapses (PASTE_CACHE_SECONDS).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from meatlizard.core.cache import Cache, CacheUnavailable
from meatlizard.core.memo import DecodedMemo
from meatlizard.pastes.caching import cacheable, raw_tag
from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.models import Paste

GONE = b"-"
TOMBSTONE_SECONDS = 60.0
LOAD_WINDOW_SECONDS = 10.0  # older loads are not stored: a tombstone may have come and gone
MAX_ENTRY_BYTES = 256 * 1024  # text and highlighted lines together; larger pastes use the DB
DECODED_MAX_BYTES = 64 * 1024 * 1024  # this process's decoded entries and drawn pages


def cache_key(paste_id: str) -> str:
    """Return the cache key of a paste's cached copy."""
    return f"paste:{paste_id}"


async def forget_pastes(cache: Cache, paste_ids: Iterable[str]) -> None:
    """Replace the cached copies of these pastes by tombstones (after the change commits)."""
    for paste_id in paste_ids:
        await cache.set(cache_key(paste_id), GONE, ttl_seconds=TOMBSTONE_SECONDS)


async def forget_keys(cache: Cache, keys: list[str]) -> None:
    """Tombstone cached pastes named by their cache keys (for account-wide changes)."""
    prefix = cache_key("")
    await forget_pastes(cache, [key.removeprefix(prefix) for key in keys])


@dataclass
class CachedPaste:
    """What a shareable paste's raw text and page need, as cached."""

    id: str
    title: str
    language: str
    size: int
    encrypted: bool
    expires_ts: float | None  # POSIX seconds
    content: str
    lines: str | None  # highlighted lines (None for ciphertext, drawn in the browser)
    version: str  # content_version(content, language): names the page
    raw_tag: str  # the text's ETag
    burn_after_read: bool = False  # the page template asks; never true here
    page: list[bytes] | None = field(default=None, repr=False)  # drawn once per process

    @property
    def expires_at(self) -> datetime | None:
        return None if self.expires_ts is None else datetime.fromtimestamp(self.expires_ts, UTC)

    def expired(self, now: float) -> bool:
        return self.expires_ts is not None and self.expires_ts <= now

    def encode(self) -> bytes:
        data = {name: getattr(self, name) for name in ENCODED_FIELDS}  # asdict deep-copies
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def of(cls, paste: Paste, lines: str | None) -> CachedPaste:
        return cls(
            id=paste.id,
            title=paste.title,
            language=paste.language,
            size=paste.size,
            encrypted=paste.encrypted,
            expires_ts=paste.expires_at.timestamp() if paste.expires_at else None,
            content=paste.content,
            lines=lines,
            version=content_version(paste.content, paste.language),
            raw_tag=raw_tag(paste.content),
        )


ENCODED_FIELDS = tuple(
    each.name for each in fields(CachedPaste) if each.name not in ("burn_after_read", "page")
)


class PasteCache:
    """Finds shareable pastes in the cache; routes store what they read from the database."""

    def __init__(
        self,
        cache: Cache,
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        memo_bytes: int = DECODED_MAX_BYTES,
    ) -> None:
        self.cache = cache
        self.clock = clock  # wall time, against expiry
        self.monotonic = monotonic  # how long a load took
        self._ttl = ttl_seconds
        # None: cached by another renderer (a process before an upgrade), drawn anew.
        self._decoded = DecodedMemo[CachedPaste | None](
            max_bytes=memo_bytes, keep_seconds=ttl_seconds, clock=monotonic
        )

    async def lookup(self, paste_id: str) -> CachedPaste | None:
        """Return the cached, unexpired paste, or None (the route then asks the database)."""
        raw = await self.cache.get(cache_key(paste_id))
        if raw is None or raw == GONE:
            return None
        entry = self._decode(raw)
        if entry is None or entry.id != paste_id or entry.expired(self.clock()):
            return None
        return entry

    def _decode(self, raw: bytes) -> CachedPaste | None:
        # Keyed by the cached bytes, so a changed entry (new bytes) is decoded afresh.
        if raw in self._decoded:
            return self._decoded.get(raw)
        entry = CachedPaste(**json.loads(raw))
        # The key keeps the cached bytes alive after the cache drops them; the decoded text
        # (up to 4 bytes a character) comes beside it, and a drawn page about as big again.
        size = 2 * len(raw) + sys.getsizeof(entry.content) + sys.getsizeof(entry.lines)
        same = entry.version == content_version(entry.content, entry.language)
        fresh = entry if same else None
        self._decoded.put(raw, fresh, size)
        return fresh

    @property
    def memo_bytes(self) -> int:
        """Return the bytes this process's decoded entries are counted as."""
        return self._decoded.used_bytes

    @property
    def memo_entries(self) -> int:
        """Return how many decoded entries this process keeps."""
        return len(self._decoded)

    def started(self) -> float:
        """Mark the start of a database load whose result may be stored."""
        return self.monotonic()

    async def remember(self, paste: Paste, lines: str | None, *, since: float) -> None:
        """Store a paste read (or created) since `since` if anyone with its link may read it.

        `lines` must be the current highlighting of a plain-text paste (None for ciphertext).
        """
        # Only a speed-up: the paste was read from (or saved to) the database already.
        with contextlib.suppress(CacheUnavailable):
            await self._remember(paste, lines, since=since)

    async def _remember(self, paste: Paste, lines: str | None, *, since: float) -> None:
        if not cacheable(paste) or paste.visibility not in ("public", "unlisted"):
            return
        if (lines is None) != paste.encrypted or self.monotonic() - since > LOAD_WINDOW_SECONDS:
            return
        if len(paste.content) + len(lines or "") > MAX_ENTRY_BYTES:
            return  # before encoding: a large paste would cost more to encode than to load
        if await self.cache.ttl(cache_key(paste.id)) is not None:
            return  # cached already (entries and tombstones always expire): keep, not redo
        entry = CachedPaste.of(paste, lines)
        ttl = self._ttl
        if entry.expires_ts is not None:
            ttl = min(ttl, entry.expires_ts - self.clock())
        raw = entry.encode()
        if ttl > 0 and len(raw) <= MAX_ENTRY_BYTES:
            await self.cache.add(cache_key(paste.id), raw, ttl_seconds=ttl)

    async def forget(self, *paste_ids: str) -> None:
        """Tombstone pastes that were deleted or changed (after the change commits)."""
        await forget_pastes(self.cache, paste_ids)
