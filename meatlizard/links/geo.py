"""Countries of clicks from a MaxMind-format (.mmdb) database; only the ISO code is kept.

GeoLite2-Country, GeoLite2-City and DB-IP's lite databases all store a record per network
with `country.iso_code` (and `registered_country.iso_code` where the country is not known);
some other vendors' free .mmdb files use a top-level `country_code`. Nothing is downloaded:
the operator points GEOIP_DATABASE at a file (README, "Countries").
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import maxminddb

log = logging.getLogger(__name__)
UNKNOWN = "unknown"
MEMO_SIZE = 4096  # client addresses remembered in memory (never written anywhere)
ISO_CODE_LENGTH = 2


class GeoDatabaseError(ValueError):
    """The file is missing, is not a MaxMind DB, or holds no countries."""


def check_database(path: Path) -> str:
    """Return the database type of a usable country database, or raise GeoDatabaseError."""
    if path.is_dir():
        raise GeoDatabaseError(f"{str(path)!r} is a folder; name the .mmdb file in it")
    if not path.is_file():
        raise GeoDatabaseError(f"no such file {str(path)!r}")
    try:
        with maxminddb.open_database(str(path)) as reader:
            kind = str(reader.metadata().database_type)
    except OSError as exc:
        raise GeoDatabaseError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except (maxminddb.InvalidDatabaseError, ValueError):
        raise GeoDatabaseError(f"{str(path)!r} is not a MaxMind DB (.mmdb) file") from None
    if "ASN" in kind.upper():
        raise GeoDatabaseError(
            f"{str(path)!r} is a {kind} database, which has no countries; "
            "use a country or city database"
        )
    return kind


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
        self._reader = maxminddb.open_database(str(path))
        # The memo holds addresses in this process's memory only, like the socket did.
        self.country: Callable[[str | None], str] = lru_cache(maxsize=memo_size)(self._country)

    def _country(self, address: str | None) -> str:
        """Return the ISO code of an address, or "unknown" (also for private addresses)."""
        if not address:
            return UNKNOWN
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:  # a Unix socket path, or a proxy's non-address placeholder
            return UNKNOWN
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d
        if not ip.is_global:  # loopback, private, link-local, documentation ranges
            return UNKNOWN
        try:
            return _iso_code(self._reader.get(ip))
        except (ValueError, maxminddb.InvalidDatabaseError):
            # An IPv6 address in an IPv4-only database, or a damaged file: count it unknown.
            return UNKNOWN

    def close(self) -> None:
        """Release the database file."""
        self._reader.close()


def open_countries(path: Path | None) -> CountryLookup | None:
    """Open GEOIP_DATABASE when it is set (the settings have checked it already)."""
    if path is None:
        return None
    lookup = CountryLookup(path)
    log.info("link statistics record countries from %s", path)
    return lookup
