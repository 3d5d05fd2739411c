"""Shared by the backup tests."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from meatlizard.core.db import make_engine
from meatlizard.tables import Base


async def content_digest(database_url: str) -> str:
    """Hash every row of every table, in primary-key order."""
    engine = make_engine(database_url)
    digest = hashlib.sha256()
    try:
        async with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
                for row in rows:
                    digest.update(repr(tuple(row)).encode())
    finally:
        await engine.dispose()
    return digest.hexdigest()
