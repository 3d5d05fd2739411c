"""Apply Alembic migrations programmatically (used by `meatlizard migrate` and `serve`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the database up to `revision`; "heads" follows every branch of the history."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))

    def _upgrade(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def upgrade_sync(database_url: str, revision: str = "heads") -> None:
    """Synchronous wrapper for the CLI."""
    from meatlizard.core.db import make_engine

    async def _main() -> None:
        engine = make_engine(database_url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(_main())
