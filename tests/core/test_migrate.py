"""Web processes that start together migrate one after the other, all successfully."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import text

from meatlizard.core.db import make_engine
from meatlizard.core.migrate import upgrade
from tests.fixtures.databases import new_postgres_database

PROCESSES = 3  # like `systemctl start meatlizard-web@8001 ... @8003` on a fresh database
# Concurrent migrations without the lock hang on each other; bound the wait so that fails.
MIGRATIONS_BOUND_S = 180


@pytest_asyncio.fixture
async def fresh_postgres(postgres_url: str) -> AsyncIterator[str]:
    """A brand-new, empty PostgreSQL database beside the test database."""
    async with new_postgres_database(postgres_url, "migrate") as url:
        yield url


async def test_processes_migrating_at_once_all_succeed(fresh_postgres: str) -> None:
    engines = [make_engine(fresh_postgres) for _ in range(PROCESSES)]
    try:
        together = asyncio.gather(*(upgrade(e) for e in engines), return_exceptions=True)
        outcomes = await asyncio.wait_for(together, MIGRATIONS_BOUND_S)
        assert [o for o in outcomes if o is not None] == []
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            users = await conn.scalar(text("SELECT count(*) FROM users"))
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(versions) >= 1 and users == 0
