"""Integer types that fit the database: 64-bit, and never a boolean in disguise."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

INT64_MAX = 2**63 - 1  # BIGINT in PostgreSQL, INTEGER in SQLite
INT64_MIN = -(2**63)


def _no_bool(value: Any) -> Any:
    """Refuse true/false where a number belongs (Python counts them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


# Request fields: a whole number that a database column can hold; forms may send digits.
Int64 = Annotated[int, BeforeValidator(_no_bool), Field(ge=INT64_MIN, le=INT64_MAX)]
