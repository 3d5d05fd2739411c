"""Database engine, session factory and the declarative base shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import PoolResetState
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for the lock
CHECKPOINT_WAIT_MS = 2_000  # how long a checkpoint after large deletes waits for readers
WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024  # SQLite's write-ahead log kept after a checkpoint

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def _rollback_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """Roll back a connection returned to the pool only if SQLite has a transaction open.

    SQLAlchemy's Connection ends what it began (commit, or a rollback on close), so this only
    catches transactions begun by raw driver use.
    """
    if not state.asyncio_safe or state.transaction_was_reset:
        return
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def make_engine(url: str) -> AsyncEngine:
    """Create an async engine, tuned for SQLite when the URL says so."""
    if url.startswith("sqlite"):
        # The pool's reset is ours (below): the default rolls back every connection it gets
        # back, a thread round trip through aiosqlite even when nothing is left open.
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_reset_on_return=None)
        event.listen(engine.sync_engine, "reset", _rollback_if_open)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers proceed while the single writer commits.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # After a checkpoint the log is cut back to this size instead of keeping its peak.
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


async def checkpoint(db: AsyncSession) -> None:
    """Copy SQLite's write-ahead log into the database and empty it (after large deletes).

    The log of a busy database rarely empties by itself: readers keep it in use. Waiting at
    most CHECKPOINT_WAIT_MS for them, this leaves it truncated, or at worst as it was.
    Other databases need nothing.
    """
    if db.get_bind().dialect.name != "sqlite":
        return
    await db.execute(text(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}"))
    try:
        await db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await db.execute(text(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"))
        await db.commit()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory used by requests and jobs."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_scope(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Yield a session that rolls back whatever was not committed."""
    async with factory() as session:
        yield session


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
