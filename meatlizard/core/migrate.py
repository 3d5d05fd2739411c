"""Apply Alembic migrations programmatically (used by `meatlizard migrate`, `serve`, `restore`).

Alembic is imported inside these functions, not with the module: with the SQLAlchemy dialects
its DDL layer loads (MySQL, MSSQL, Oracle, ...) it adds about 10 MiB to a process, and a
server needs it once, at start-up. `meatlizard serve` therefore migrates in a short-lived child
process (`upgrade_in_child`), and the long-running server never loads it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Held for the migration's transaction on PostgreSQL: web processes started together (each
# systemd unit migrates first) take turns, and the later ones find the schema current.
MIGRATION_LOCK_ID = 0x4D4C_4D49  # "MLMI"


class MigrationFailed(RuntimeError):
    """The child process that migrates the database did not succeed."""


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config pointing at our migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the database up to `revision`; "heads" follows every branch of the history."""
    from alembic import command

    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))

    def _upgrade(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
            )
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


def upgrade_in_child() -> None:
    """Run `meatlizard migrate` in a child process with this process's settings (environment).

    The child's memory (Alembic, the dialects) goes back to the system when it exits.
    """
    command = [sys.executable, "-m", "meatlizard", "migrate"]
    if subprocess.run(command, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        raise MigrationFailed("the database migration failed (see the lines above)")
