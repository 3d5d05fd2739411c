"""Typed dependencies of the chat routes and socket, made once by the composition root."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.chat.ending import EndRule
from meatlizard.chat.flows import ChatFlow
from meatlizard.chat.models import ChatSession
from meatlizard.chat.session_events import SessionEvents


class SessionEnder(Protocol):
    """Ends a session from the web: its transcript is archived and the server-bot told."""

    async def __call__(self, db: AsyncSession, end: EndRule) -> ChatSession: ...


def chat_flow_of(app_state: Any) -> ChatFlow:
    """Return the chat flow the composition root put on the app's state (also for sockets)."""
    chat: ChatFlow = app_state.services.chat
    return chat


async def get_chat_flow(request: Request) -> ChatFlow:
    """Return the chat flow (guard, answer, orphan adoption)."""
    return chat_flow_of(request.app.state)


async def get_session_events(request: Request) -> SessionEvents:
    """Return where ended and deleted sessions are told (the server-bot follows)."""
    events: SessionEvents = request.app.state.services.session_events
    return events


async def get_session_ender(request: Request) -> SessionEnder:
    """Return how the web ends a session."""
    ender: SessionEnder = request.app.state.services.end_session
    return ender


ChatFlowDep = Annotated[ChatFlow, Depends(get_chat_flow)]
SessionEventsDep = Annotated[SessionEvents, Depends(get_session_events)]
SessionEnderDep = Annotated[SessionEnder, Depends(get_session_ender)]
