"""Helpers shared by the tests of personal data."""

from __future__ import annotations

from sqlalchemy import text

from meatlizard.runtime import Services
from meatlizard.tables import Base


async def dump_everything(services: Services) -> str:
    """Every row of every table and every stored object, as one string."""
    parts: list[str] = []
    async with services.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in await conn.execute(text(f"SELECT * FROM {table.name}")):
                parts.append(repr(tuple(row)))
    for item in await services.storage.list(""):
        parts.append((await services.storage.get_bytes(item.key)).decode("utf-8", "replace"))
    return "\n".join(parts)
