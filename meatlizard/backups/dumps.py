"""Produce and load database dumps: pg_dump/psql for PostgreSQL, the backup API for SQLite."""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

CHUNK = 1024 * 1024


class DumpError(Exception):
    """A dump or restore tool failed; the message includes what it said."""


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """Turn a SQLAlchemy URL into one pg_dump and psql understand, and their environment.

    The password goes in PGPASSWORD, never on the command line, which any local user can
    read in the process list.
    """
    url = make_url(database_url).set(drivername="postgresql")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    bare = url._replace(password=None)  # set() ignores None
    return bare.render_as_string(hide_password=False), env


def sqlite_path(database_url: str) -> Path:
    """Return the file behind a sqlite+aiosqlite URL."""
    database = make_url(database_url).database
    if not database:
        raise DumpError("in-memory SQLite databases cannot be backed up")
    return Path(database)


async def dump_postgres(database_url: str, target: Path) -> None:
    """Write a gzip-compressed plain SQL dump of the database to `target`, streaming."""
    url, env = libpq_url(database_url)
    proc = await asyncio.create_subprocess_exec(
        "pg_dump",
        "--no-owner",
        "--no-privileges",
        "--format=plain",
        url,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    with gzip.open(target, "wb") as out:
        while chunk := await proc.stdout.read(CHUNK):
            await asyncio.to_thread(out.write, chunk)
    errors = await proc.stderr.read()
    if await proc.wait() != 0:
        raise DumpError(f"pg_dump failed: {errors.decode(errors='replace').strip()}")


# Sent before the dump inside the same transaction: a failed load leaves the old data.
RESET_SCHEMA = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"


async def load_postgres(database_url: str, source: Path) -> None:
    """Replace the database's public schema with a gzip-compressed dump, in one transaction."""
    url, env = libpq_url(database_url)
    proc = await asyncio.create_subprocess_exec(
        "psql",
        "--quiet",
        "--no-psqlrc",
        "--single-transaction",
        "-v",
        "ON_ERROR_STOP=1",
        "--dbname",
        url,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        proc.stdin.write(RESET_SCHEMA)
        with gzip.open(source, "rb") as dump:
            while chunk := await asyncio.to_thread(dump.read, CHUNK):
                proc.stdin.write(chunk)
                await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # psql stopped early; its exit status and stderr say why
    finally:
        proc.stdin.close()
    errors = await proc.stderr.read()
    if await proc.wait() != 0:
        raise DumpError(f"psql failed: {errors.decode(errors='replace').strip()}")


def dump_sqlite(database_url: str, target: Path) -> None:
    """Copy a live SQLite database with its online backup API, then gzip it to `target`."""
    source_path = sqlite_path(database_url)
    snapshot = target.with_suffix(".snapshot")
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(snapshot)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    with snapshot.open("rb") as raw, gzip.open(target, "wb") as out:
        shutil.copyfileobj(raw, out, CHUNK)
    snapshot.unlink()


def load_sqlite(database_url: str, source: Path) -> None:
    """Replace the SQLite file with the backup's, atomically (the engine must be closed)."""
    path = sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".restoring")
    with gzip.open(source, "rb") as dump, staging.open("wb") as out:
        shutil.copyfileobj(dump, out, CHUNK)
    check = sqlite3.connect(staging)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()
    finally:
        check.close()
    if not result or result[0] != "ok":
        staging.unlink()
        raise DumpError(f"the restored SQLite file fails its integrity check: {result}")
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    staging.replace(path)
