"""Countries of clicks from a MaxMind-format (.mmdb) database; only the ISO code is kept.

GeoLite2-Country, GeoLite2-City and DB-IP's lite databases all store a record per network
with `country.iso_code` (and `registered_country.iso_code` where the country is not known);
some other vendors' free .mmdb files use a top-level `country_code`. Nothing is downloaded:
the operator points GEOIP_DATABASE at a file (README, "Countries") and may replace it (e.g.
`geoipupdate` from cron): a changed file is picked up within RECHECK_SECONDS, no restart.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import maxminddb

from meatlizard.core.geoip import GeoDatabaseError, check_database

log = logging.getLogger(__name__)
UNKNOWN = "unknown"
MEMO_SIZE = 4096  # client addresses remembered in memory (never written anywhere)
RECHECK_SECONDS = 60.0  # how often the file is looked at for a replacement
ISO_CODE_LENGTH = 2
IPV4_MAPPED_PREFIX = bytes(10) + b"\xff\xff"
# Not globally reachable (IANA special-purpose registries, as ipaddress's is_global has them,
# bar a few single anycast addresses): private, shared (CGNAT), loopback, link-local,
# documentation, benchmarking and reserved ranges. Checked by bisecting integer ranges,
# because is_global costs more than the database lookup itself.
NOT_GLOBAL_NETWORKS = [
    *("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16"),
    *("172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15"),
    *("198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4"),
    *("::/127", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7"),
    "fe80::/10",
]


def _ranges(version: int) -> tuple[list[int], list[int]]:
    """Return the sorted first and last addresses of the non-global networks of a version."""
    networks = sorted(
        n for n in map(ipaddress.ip_network, NOT_GLOBAL_NETWORKS) if n.version == version
    )
    return [int(n.network_address) for n in networks], [int(n.broadcast_address) for n in networks]


NOT_GLOBAL = {4: _ranges(4), 16: _ranges(6)}  # keyed by packed address length


def is_global(packed: bytes) -> bool:
    """Say whether a packed IPv4 or IPv6 address is globally reachable (a country may have it)."""
    starts, ends = NOT_GLOBAL[len(packed)]
    value = int.from_bytes(packed)
    index = bisect_right(starts, value) - 1
    return index < 0 or value > ends[index]


def _iso_code(record: Any) -> str:
    """Pick the country's ISO 3166 code out of a database record."""
    if not isinstance(record, dict):
        return UNKNOWN
    for key in ("country", "registered_country"):
        part = record.get(key)
        if isinstance(part, dict) and isinstance(part.get("iso_code"), str):
            code: str = part["iso_code"]
            break
    else:
        vendor_code = record.get("country_code")
        code = vendor_code if isinstance(vendor_code, str) else ""
    code = code.upper()
    return code if len(code) == ISO_CODE_LENGTH and code.isascii() and code.isalpha() else UNKNOWN


class CountryLookup:
    """Answers the country of a client address, memoised per address (bounded)."""

    def __init__(self, path: Path, memo_size: int = MEMO_SIZE) -> None:
        check_database(path)
        self.path = path
        self._identity = _identity(path)
        self._reader = maxminddb.open_database(str(path))
        self._checked = time.monotonic()
        self._refused: tuple[int, int, int] | None = None
        # The memo holds addresses in this process's memory only, like the socket did.
        self.country: Callable[[str | None], str] = lru_cache(maxsize=memo_size)(self._country)

    def reload_if_changed(self, *, now: float | None = None) -> bool:
        """Open the file again if it was replaced (at most every RECHECK_SECONDS).

        A replacement that is not a usable database is logged once and the loaded one kept.
        Returns whether a new database is in use.
        """
        now = time.monotonic() if now is None else now
        if now - self._checked < RECHECK_SECONDS:
            return False
        self._checked = now
        try:
            identity = _identity(self.path)
        except OSError:
            identity = None
        if identity is None or identity in (self._identity, self._refused):
            return False
        try:
            kind = check_database(self.path)
            reader = maxminddb.open_database(str(self.path))
        except (GeoDatabaseError, OSError) as exc:
            self._refused = identity
            log.warning("GEOIP_DATABASE was replaced by an unusable file; keeping the old: %s", exc)
            return False
        old, self._reader, self._identity = self._reader, reader, identity
        self.country.cache_clear()  # type: ignore[attr-defined]
        old.close()
        log.info("link statistics use the replaced %s database %s", kind, self.path)
        return True

    def _country(self, address: str | None) -> str:
        """Return the ISO code of an address, or "unknown" (also for private addresses)."""
        if not address:
            return UNKNOWN
        try:
            packed = socket.inet_pton(
                socket.AF_INET6 if ":" in address else socket.AF_INET, address
            )
        except OSError:  # a Unix socket path, or a proxy's non-address placeholder
            return UNKNOWN
        if packed[:12] == IPV4_MAPPED_PREFIX:  # dual-stack sockets: ::ffff:a.b.c.d
            packed = packed[12:]
            address = socket.inet_ntop(socket.AF_INET, packed)
        if not is_global(packed):
            return UNKNOWN
        try:
            return _iso_code(self._reader.get(address))
        except (ValueError, maxminddb.InvalidDatabaseError):
            # An IPv6 address in an IPv4-only database, or a damaged file: count it unknown.
            return UNKNOWN

    def close(self) -> None:
        """Release the database file."""
        self._reader.close()


def _identity(path: Path) -> tuple[int, int, int]:
    """Return what changes when the file is rewritten or replaced: inode, size, mtime."""
    info = os.stat(path)
    return info.st_ino, info.st_size, info.st_mtime_ns


def open_countries(path: Path | None) -> CountryLookup | None:
    """Open GEOIP_DATABASE when it is set (the settings have checked it already)."""
    if path is None:
        return None
    lookup = CountryLookup(path)
    log.info("link statistics record countries from %s", path)
    return lookup
