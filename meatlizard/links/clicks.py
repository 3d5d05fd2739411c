"""Clicks are counted in memory and written to the database in batches, never one by one."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.metrics import REDIRECTS
from meatlizard.links.agents import VALUE_MAX_LENGTH, classify, referrer_host
from meatlizard.links.geo import CountryLookup
from meatlizard.links.models import Link, LinkStat

log = logging.getLogger(__name__)
ROWS_PER_INSERT = 500  # well under PostgreSQL's 32767 bind parameters
SECONDS_PER_DAY = 86400
StatKey = tuple[int, date, str, str]  # link id, UTC day, kind, value


@dataclass
class Batch:
    """Clicks not yet written: totals per link and per statistics row."""

    people: Counter[int] = field(default_factory=Counter)
    bots: Counter[int] = field(default_factory=Counter)
    stats: Counter[StatKey] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.people or self.bots)

    def merge(self, other: Batch) -> None:
        """Add another batch's counts to this one."""
        self.people.update(other.people)
        self.bots.update(other.bots)
        self.stats.update(other.stats)


class ClickRecorder:
    """Buffers clicks in this process and flushes them every `interval_seconds` and at close.

    With a GeoIP database (`countries`), a person's click also counts its country; the
    client address is looked up and dropped, never stored.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval_seconds: float,
        countries: CountryLookup | None = None,
    ) -> None:
        self.sessions = sessions
        self.countries = countries
        self._interval = interval_seconds
        self._batch = Batch()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._day_number = -1
        self._day = date.min

    def _today(self) -> date:
        """Return the UTC date, rebuilt only when the day changes (it is asked per click)."""
        number = int(time.time() // SECONDS_PER_DAY)
        if number != self._day_number:
            self._day_number, self._day = number, datetime.now(UTC).date()
        return self._day

    def record(
        self, link_id: int, *, user_agent: str, referer: str | None, client: str | None = None
    ) -> None:
        """Count one click (synchronous: the redirect never waits for storage).

        `client` is the address uvicorn reports (a trusted proxy's X-Forwarded-For applied).
        """
        REDIRECTS.inc()  # every redirect passes here; an in-memory add
        visitor = classify(user_agent)
        day = self._today()
        stats = self._batch.stats
        if visitor.bot is not None:
            self._batch.bots[link_id] += 1
            stats[(link_id, day, "bot", visitor.bot)] += 1
            return
        self._batch.people[link_id] += 1
        stats[(link_id, day, "click", "")] += 1
        stats[(link_id, day, "referrer", referrer_host(referer))] += 1
        stats[(link_id, day, "browser", visitor.browser)] += 1
        stats[(link_id, day, "os", visitor.os)] += 1
        if self.countries is not None:
            stats[(link_id, day, "country", self.countries.country(client))] += 1

    def pending(self, link_id: int) -> tuple[int, int]:
        """Return the (people, bots) clicks of a link not yet written by this process."""
        return self._batch.people[link_id], self._batch.bots[link_id]

    async def flush(self) -> int:
        """Write the buffered clicks in one transaction; on failure keep them for the next try."""
        async with self._lock:
            batch, self._batch = self._batch, Batch()
            if not batch:
                return 0
            try:
                await self._write(batch)
            except BaseException:
                self._batch.merge(batch)
                raise
            return sum(batch.people.values()) + sum(batch.bots.values())

    async def _write(self, batch: Batch) -> None:
        async with self.sessions() as db:
            ids = sorted(set(batch.people) | set(batch.bots))
            # Clicks on links deleted since are dropped; sorted ids keep lock order stable.
            alive = set(await db.scalars(select(Link.id).where(Link.id.in_(ids))))
            for link_id in (i for i in ids if i in alive):
                await db.execute(
                    update(Link)
                    .where(Link.id == link_id)
                    .values(
                        clicks=Link.clicks + batch.people[link_id],
                        bot_clicks=Link.bot_clicks + batch.bots[link_id],
                    )
                )
            rows = [
                {"link_id": k[0], "day": k[1], "kind": k[2], "value": k[3][:VALUE_MAX_LENGTH]}
                | {"count": n}
                for k, n in sorted(batch.stats.items())
                if k[0] in alive
            ]
            for start in range(0, len(rows), ROWS_PER_INSERT):
                await db.execute(_upsert(db, rows[start : start + ROWS_PER_INSERT]))
            await db.commit()

    def start(self) -> None:
        """Begin flushing periodically in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="link-click-flush")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # the clicks stay buffered; the next flush retries
                log.exception("writing link clicks failed; will retry")
            if self.countries is not None:
                # On the loop, not a thread: lookups must never meet a reader being closed.
                # It is a stat() a minute, and a memory-mapped open when the file changed.
                self.countries.reload_if_changed()

    async def close(self) -> None:
        """Stop the periodic flush and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:
            lost = sum(self._batch.people.values()) + sum(self._batch.bots.values())
            log.exception("could not write %d link clicks at shutdown", lost)
        if self.countries is not None:
            self.countries.close()


def _upsert(db: AsyncSession, rows: list[dict[str, object]]) -> Any:
    """Add counts to existing statistics rows, creating the missing ones."""
    # The INSERT ... ON CONFLICT of the dialect in use ("sqlite" or "postgresql"), taken from
    # the dialect package the engine has loaded already: importing PostgreSQL's here would
    # add ~2.4 MiB to an embedded (SQLite) server for nothing.
    dialect = importlib.import_module(f"sqlalchemy.dialects.{db.get_bind().dialect.name}")
    statement = dialect.insert(LinkStat).values(rows)
    return statement.on_conflict_do_update(
        index_elements=["link_id", "day", "kind", "value"],
        set_={"count": LinkStat.count + statement.excluded["count"]},
    )
