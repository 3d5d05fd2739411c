"""Answers whose web process died mid-stream, stored by another web process.

A user whose socket went down with its web process finds the answer in the history when the
worker finishes it (see relay/adoption.py): no second generation, nothing lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.chat import service
from meatlizard.chat.models import ChatMessage, ChatSession, MessageStatus
from meatlizard.core.outages import retry_while_down
from meatlizard.core.sweeper import Sweeper
from meatlizard.inference.engine import GenerationStats
from meatlizard.relay.adoption import Orphan

log = logging.getLogger(__name__)

ADOPT_INTERVAL_SECONDS = 2.0
STORE_RETRY_SECONDS = 30.0  # how long a stored answer waits for a database that is down


@runtime_checkable
class Adopter(Protocol):
    """The relay gateway's side: find orphaned requests and read their answers."""

    async def adopt_orphans(self) -> list[Orphan]: ...

    async def finish_orphan(self, orphan: Orphan) -> tuple[str, GenerationStats] | None: ...


class OrphanedAnswers(Sweeper):
    """Adopts the chat requests of web processes that died and stores their answers."""

    name = "orphaned-answers"
    swept_what = "answers of a web process that stopped, adopted"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], adopter: Adopter) -> None:
        super().__init__(ADOPT_INTERVAL_SECONDS)
        self._sessions = sessions
        self._adopter = adopter
        self._finishing: set[asyncio.Task[None]] = set()

    async def sweep_once(self) -> int:
        orphans = await self._adopter.adopt_orphans()
        for orphan in orphans:
            task = asyncio.create_task(self._finish(orphan), name=f"orphan-{orphan.request_id}")
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        return len(orphans)

    async def _finish(self, orphan: Orphan) -> None:
        try:
            result = await self._adopter.finish_orphan(orphan)
            if result is not None:
                text, stats = result
                await retry_while_down(
                    lambda: store_orphan_answer(self._sessions, orphan, text, stats),
                    seconds=STORE_RETRY_SECONDS,
                    what=f"storing the answer to orphaned request {orphan.request_id}",
                )
        except Exception:
            log.exception("storing the answer to orphaned request %s failed", orphan.request_id)

    async def stop(self) -> None:
        await super().stop()
        for task in list(self._finishing):
            task.cancel()
        await asyncio.gather(*self._finishing, return_exceptions=True)


async def store_orphan_answer(
    sessions: async_sessionmaker[AsyncSession],
    orphan: Orphan,
    text: str,
    stats: GenerationStats,
) -> int | None:
    """Store an adopted answer under its prompt; None when there is nothing to store."""
    async with sessions() as db:
        chat = await db.get(ChatSession, orphan.session_id)
        prompt = await db.get(ChatMessage, orphan.prompt_id)
        if not text or chat is None or prompt is None or prompt.session_id != chat.id:
            return None  # an empty answer, or the chat or its prompt was deleted meanwhile
        message = await service.add_assistant_message(
            db,
            session=chat,
            content=text,
            status=MessageStatus.COMPLETE,
            model_alias=orphan.alias,
            is_fallback=False,
            token_count=stats.token_count,
            tokens_per_second=stats.tokens_per_second,
            prompt_id=orphan.prompt_id,
        )
        log.info("stored the answer to orphaned request %s", orphan.request_id)
        return message.id
