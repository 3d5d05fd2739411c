"""ChatFlow failure handling: a model that breaks mid-answer stores nothing half-written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from meatlizard.auth import service as auth_service
from meatlizard.chat import service as chat_service
from meatlizard.chat.flows import Failed, Finished, Started, Token
from meatlizard.chat.models import Role
from meatlizard.chat.schemas import SessionCreate
from meatlizard.inference.engine import (
    GenerationRequest,
    GenerationStats,
    InferenceEngine,
    InferenceError,
)
from meatlizard.runtime import Services
from tests.helpers import PASSWORD, unique_name


class BreaksMidway(InferenceEngine):
    """Fault injection: yields two pieces, then fails like a crashed backend would."""

    alias = "breaks"
    is_fallback = True

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        yield "half "
        yield "an answer"
        raise InferenceError("backend crashed")


async def _session(services: Services) -> tuple[object, str]:
    async with services.sessions() as db:
        user = await auth_service.register(db, username=unique_name(), password=PASSWORD)
        chat = await chat_service.create_session(
            db, user=user, data=SessionCreate(), aliases=["breaks"], default_alias="breaks"
        )
        return user, chat.id


async def test_failure_midway_stores_the_prompt_but_no_half_answer(services: Services) -> None:
    services.inference.fallback = BreaksMidway()
    user, session_id = await _session(services)
    events = [
        e
        async for e in services.chat.answer(
            user=user,
            session_id=session_id,
            prompt="hello",
            cancel=asyncio.Event(),  # type: ignore[arg-type]
        )
    ]
    assert isinstance(events[0], Started)
    assert [e.text for e in events if isinstance(e, Token)] == ["half ", "an answer"]
    assert isinstance(events[-1], Failed)
    assert "regenerate" in events[-1].message
    async with services.sessions() as db:
        stored = await chat_service.history(db, session_id=session_id)
    assert [m.role for m in stored] == [Role.USER]


async def test_client_leaving_midway_keeps_the_partial_answer_as_stopped(
    services: Services,
) -> None:
    user, session_id = await _session(services)
    cancel = asyncio.Event()
    events = services.chat.answer(
        user=user,
        session_id=session_id,
        prompt="hello lizard",
        cancel=cancel,  # type: ignore[arg-type]
    )
    seen = []
    async for event in events:
        seen.append(event)
        if isinstance(event, Token):
            cancel.set()  # what the socket does when the client disconnects
            break
    await events.aclose()  # type: ignore[attr-defined]
    async with services.sessions() as db:
        stored = await chat_service.history(db, session_id=session_id)
    assert [m.role for m in stored] == [Role.USER, Role.ASSISTANT]
    assert stored[1].status.value == "stopped"
    assert stored[1].content == seen[-1].text
    assert not any(isinstance(e, Finished) for e in seen)
