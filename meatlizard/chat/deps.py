"""Typed dependencies of the chat routes and socket, made once by the composition root."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.api.deps import from_state
from meatlizard.chat.access import TokenWatch
from meatlizard.chat.ending import EndRule
from meatlizard.chat.flows import ChatFlow
from meatlizard.chat.models import ChatSession
from meatlizard.chat.session_events import SessionEvents


class SessionEnder(Protocol):
    """Ends a session from the web: its transcript is archived and the server-bot told."""

    async def __call__(self, db: AsyncSession, end: EndRule) -> ChatSession: ...


def chat_flow_of(app_state: Any) -> ChatFlow:
    """Return the chat flow the composition root put on the app's state (for the socket)."""
    chat: ChatFlow = app_state.services.chat
    return chat


def token_watch_of(app_state: Any) -> TokenWatch:
    """Return the watch that ends sockets whose token is no longer good (for the socket)."""
    watch: TokenWatch = app_state.services.token_watch
    return watch


ChatFlowDep = Annotated[ChatFlow, Depends(from_state("chat"))]  # guard, answer, adoption
# Where ended and deleted sessions are told (the server-bot follows).
SessionEventsDep = Annotated[SessionEvents, Depends(from_state("session_events"))]
SessionEnderDep = Annotated[SessionEnder, Depends(from_state("end_session"))]
