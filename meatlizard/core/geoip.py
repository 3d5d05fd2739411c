"""Check a MaxMind-format (.mmdb) country database file before anything reads it."""

from __future__ import annotations

from pathlib import Path

import maxminddb


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
