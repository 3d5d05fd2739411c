"""Cache and rate limits: in-process for the embedded default, Redis for several processes."""

from __future__ import annotations

from meatlizard.core.bounded import CacheFull
from meatlizard.core.cache.base import Cache, CacheUnavailable
from meatlizard.core.cache.memory import MemoryCache
from meatlizard.core.cache.redis import RedisCache
from meatlizard.core.settings import Settings


def cache_from_settings(settings: Settings) -> Cache:
    """Return Redis when REDIS_URL is set, otherwise the in-process cache."""
    if settings.redis_url:
        return RedisCache(settings.redis_url)
    return MemoryCache(max_bytes=settings.cache_memory_max_bytes)


__all__ = [
    "Cache",
    "CacheFull",
    "CacheUnavailable",
    "MemoryCache",
    "RedisCache",
    "cache_from_settings",
]
