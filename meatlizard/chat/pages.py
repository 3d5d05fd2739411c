"""The chat page: session list, conversation, composer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meatlizard.api.deps import DbDep, OptionalUser
from meatlizard.chat import service
from meatlizard.chat.presets import PRESETS
from meatlizard.chat.schemas import MessageRead, SessionRead
from meatlizard.core.errors import NotFound
from meatlizard.inference.deps import InferenceDep
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/chat", response_class=HTMLResponse)
@router.get("/chat/{session_id}", response_class=HTMLResponse)
async def chat_page(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    inference: InferenceDep,
    session_id: str | None = None,
) -> Response:
    if user is None:
        target = f"/chat/{session_id}" if session_id else "/chat"
        return RedirectResponse(f"/login?next={target}", status_code=303)
    sessions = await service.list_sessions(db, user=user)
    current = None
    messages: list[MessageRead] = []
    if session_id is not None:
        try:
            current = await service.get_session(db, user=user, session_id=session_id)
        except NotFound:
            return render(
                request,
                "not_found.html",
                user=user,
                section="chat",
                status_code=404,
                message="That chat session does not exist (or is not yours).",
            )
        messages = await service.shown_messages(db, session=current)
    initial = {
        "session": SessionRead.model_validate(current).model_dump(mode="json") if current else None,
        "messages": [m.model_dump(mode="json") for m in messages],
        "inference": inference.status(),
    }
    return render(
        request,
        "chat.html",
        user=user,
        section="chat",
        sessions=sessions,
        current=current,
        presets=list(PRESETS.values()),
        models=inference.aliases,
        initial=initial,
    )
