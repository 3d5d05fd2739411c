"""Pastes take little more room than their text, and a large sweep leaves SQLite's log small."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from meatlizard.core.db import make_engine, utcnow
from meatlizard.core.migrate import upgrade
from meatlizard.pastes.highlight import render_lines
from meatlizard.pastes.jobs import PasteSweeper
from meatlizard.pastes.models import Paste
from meatlizard.pastes.service import sweep_expired
from meatlizard.runtime import Services

PASTES = 30
EXPIRED_PASTES = 300
# Our own modules: real code of 1 to 20 KB, highlighted as the pastes of the soak were.
SOURCES = sorted(Path(__file__).parents[2].joinpath("meatlizard").rglob("*.py"))
KIB = 1024


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"paste_rate_limit": "1000/minute"}


def _texts(count: int) -> list[str]:
    texts = []
    for source in SOURCES:
        body = source.read_text()
        if KIB <= len(body.encode()) <= 20 * KIB:
            texts.append(body)
        if len(texts) == count:
            return texts
    raise AssertionError("not enough source files of 1-20 KB")


async def _stored_bytes(services: Services) -> int:
    """Return the bytes the database uses (SQLite: pages in use, after a checkpoint)."""
    async with services.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            pages = await conn.scalar(text("PRAGMA page_count"))
            free = await conn.scalar(text("PRAGMA freelist_count"))
            size = await conn.scalar(text("PRAGMA page_size"))
            return int((pages - free) * size)
        found = await conn.scalar(text("SELECT pg_total_relation_size('pastes')"))
        return int(found)


async def test_a_paste_takes_little_more_than_its_text(
    client: httpx.AsyncClient, services: Services
) -> None:
    texts = _texts(PASTES)
    before = await _stored_bytes(services)
    for body in texts:
        made = await client.post("/api/v1/pastes", json={"content": body, "language": "python"})
        assert made.status_code == 201, made.text
    per_paste = (await _stored_bytes(services) - before) / PASTES
    average_text = sum(len(body.encode()) for body in texts) / PASTES
    # The highlighting is kept (5-10 times the text as HTML), compressed; not 135 KB a paste.
    assert per_paste < 2.5 * average_text + 2 * KIB, (per_paste, average_text)
    async with services.sessions() as db:
        stored = await db.scalars(select(Paste).options(undefer(Paste.rendered_z)))
        for paste in stored:
            assert paste.rendered is not None and 'id="L1"' in paste.rendered


async def _insert_expired(services: Services, count: int) -> None:
    html = str(render_lines(_texts(1)[0], "python"))
    gone = utcnow() - timedelta(minutes=1)
    async with services.sessions() as db:
        # One transaction, as a burst of creates fills the log between checkpoints.
        for i in range(count):
            content = f"# {i}\n" + "x = 1\n" * 17_000
            db.add(Paste(content=content, size=len(content), expires_at=gone, rendered=html * 4))
        await db.commit()


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
async def test_a_large_sweep_leaves_the_write_ahead_log_small(services: Services) -> None:
    await _insert_expired(services, EXPIRED_PASTES)
    database = Path(str(services.engine.url.database))
    log = database.with_name(database.name + "-wal")
    assert log.stat().st_size > 16 * 1024 * KIB  # a burst of writes made it large

    assert await PasteSweeper(services.sessions).sweep_once() == EXPIRED_PASTES
    assert log.stat().st_size <= 4 * 1024 * KIB  # at most SQLite's auto-checkpoint size
    async with services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Paste)) == 0
        check = await db.scalar(text("PRAGMA integrity_check"))
    assert check == "ok"


async def test_the_sweep_deletes_in_batches(services: Services) -> None:
    await _insert_expired(services, 25)
    async with services.sessions() as db:
        assert await sweep_expired(db, batch_rows=10) == 25
        assert await db.scalar(select(func.count()).select_from(Paste)) == 0


async def test_the_migration_compresses_stored_highlighting(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0013")  # highlighting stored as text
        html = str(render_lines(_texts(1)[0], "python"))
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO pastes (id, title, language, content, size, visibility,"
                    " burn_after_read, encrypted, created_at, rendered)"
                    " VALUES ('old', '', 'python', 'x', 1, 'public', 0, 0, :now, :html)"
                ),
                {"now": utcnow().isoformat(), "html": html},
            )
        await upgrade(engine)
        async with AsyncSession(engine) as db:
            paste = await db.get(Paste, "old", options=[undefer(Paste.rendered_z)])
            assert paste is not None and paste.rendered == html
            assert paste.rendered_z is not None and len(paste.rendered_z) < len(html) / 4
    finally:
        await engine.dispose()
