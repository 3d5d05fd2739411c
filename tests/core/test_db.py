"""The SQLite engine: a connection back in the pool is rolled back only if a transaction is open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from meatlizard.core.db import make_engine, make_session_factory


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (body TEXT)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every rollback that reaches the driver (each one a trip to its thread)."""
    calls: list[object] = []
    original = AsyncAdapt_aiosqlite_connection.rollback

    def counted(self: AsyncAdapt_aiosqlite_connection) -> None:
        calls.append(self)
        original(self)

    monkeypatch.setattr(AsyncAdapt_aiosqlite_connection, "rollback", counted)
    return calls


async def _notes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.scalars(text("SELECT body FROM notes"))).all())


async def test_a_committed_session_is_not_rolled_back_again(
    engine: AsyncEngine, rollbacks: list[object]
) -> None:
    async with make_session_factory(engine)() as session:
        await session.execute(text("INSERT INTO notes VALUES ('kept')"))
        await session.commit()
    assert rollbacks == []
    assert await _notes(engine) == ["kept"]


async def test_an_unfinished_session_is_still_rolled_back(engine: AsyncEngine) -> None:
    async with make_session_factory(engine)() as session:
        await session.execute(text("INSERT INTO notes VALUES ('dropped')"))
    assert await _notes(engine) == []


async def test_a_transaction_opened_behind_sqlalchemy_is_rolled_back_on_return(
    engine: AsyncEngine, rollbacks: list[object]
) -> None:
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("INSERT INTO notes VALUES ('raw')")  # the driver opens a transaction
        assert raw.in_transaction
    assert len(rollbacks) == 1
    assert await _notes(engine) == []
