"""Chat API: sessions, history, export, prompt library and models."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from meatlizard.api.deps import CurrentUser, DbDep, SettingsDep, StorageDep
from meatlizard.chat import branches, exports, service
from meatlizard.chat.deps import SessionEnderDep, SessionEventsDep
from meatlizard.chat.ending import by_owner
from meatlizard.chat.models import ArchiveStatus
from meatlizard.chat.presets import PRESETS
from meatlizard.chat.schemas import (
    PresetRead,
    SessionCreate,
    SessionDetail,
    SessionEnd,
    SessionRead,
    SessionUpdate,
    ShowMessage,
)
from meatlizard.chat.session_events import SessionChange, changed
from meatlizard.core.errors import NotFound
from meatlizard.inference.deps import InferenceDep
from meatlizard.transcripts import service as transcripts

router = APIRouter(prefix="/chat", tags=["chat"])


@router.get("/presets", response_model=list[PresetRead])
async def list_presets() -> list[PresetRead]:
    """List the prompt library."""
    return [PresetRead(**vars(p)) for p in PRESETS.values()]


@router.get("/models")
async def list_models(inference: InferenceDep) -> dict[str, object]:
    """List the model aliases and whether each is loaded (else the fallback answers)."""
    return inference.status()


@router.post("/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionRead)
async def create_session(
    body: SessionCreate, user: CurrentUser, db: DbDep, inference: InferenceDep
) -> SessionRead:
    """Start a chat session."""
    session = await service.create_session(
        db,
        user=user,
        data=body,
        aliases=inference.aliases,
        default_alias=inference.default_alias,
    )
    return SessionRead.model_validate(session)


@router.get("/sessions", response_model=list[SessionRead])
async def list_sessions(
    user: CurrentUser, db: DbDep, q: Annotated[str | None, Query(max_length=200)] = None
) -> list[SessionRead]:
    """List your chat sessions, most recently active first; `q` searches titles and messages."""
    sessions = await service.list_sessions(db, user=user, query=q)
    return [SessionRead.model_validate(s) for s in sessions]


@router.get("/sessions/{session_id}", response_model=SessionDetail)
async def get_session(session_id: str, user: CurrentUser, db: DbDep) -> SessionDetail:
    """Return a session with the branch of its history that is shown."""
    session = await service.get_session(db, user=user, session_id=session_id)
    return await service.detail(db, session=session)


@router.post("/sessions/{session_id}/show", response_model=SessionDetail)
async def show_version(
    session_id: str, body: ShowMessage, user: CurrentUser, db: DbDep
) -> SessionDetail:
    """Show another version of a message (and the branch that follows it) from now on."""
    session = await service.get_session(db, user=user, session_id=session_id)
    await branches.show(db, session=session, message_id=body.message_id)
    return await service.detail(db, session=session)


@router.patch("/sessions/{session_id}", response_model=SessionRead)
async def update_session(
    session_id: str, body: SessionUpdate, user: CurrentUser, db: DbDep, inference: InferenceDep
) -> SessionRead:
    """Rename a session or change its system prompt, temperature or model."""
    session = await service.update_session(
        db, user=user, session_id=session_id, data=body, aliases=inference.aliases
    )
    return SessionRead.model_validate(session)


@router.post("/sessions/{session_id}/end", response_model=SessionRead)
async def end_session(
    session_id: str, body: SessionEnd, user: CurrentUser, db: DbDep, end: SessionEnderDep
) -> SessionRead:
    """End a session; with `save_transcript` its transcript is written in the background."""
    session = await end(db, by_owner(user, session_id, body.save_transcript))
    return SessionRead.model_validate(session)


@router.get("/sessions/{session_id}/transcript", response_model=None)
async def get_transcript(
    session_id: str,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    storage: StorageDep,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Download the saved transcript (a redirect to a pre-signed link on S3)."""
    session = await service.get_session(db, user=user, session_id=session_id)
    record = await transcripts.get_transcript(db, session_id=session.id)
    if record is None:
        raise NotFound(_missing_transcript_reason(session.archive_status))
    key = record.json_key if format == "json" else record.csv_key
    url = await storage.presigned_url(key, settings.transcript_link_hours * 3600)
    if url is not None:
        return RedirectResponse(url, status_code=307)
    media = "application/json" if format == "json" else "text/csv; charset=utf-8"
    return StreamingResponse(
        await storage.open_stream(key),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="transcript-{session.id}.{format}"'},
    )


def _missing_transcript_reason(status: ArchiveStatus | None) -> str:
    if status is ArchiveStatus.ARCHIVING:
        return "the transcript is still being written; try again in a moment"
    if status is ArchiveStatus.FAILED:
        return "writing the transcript failed; end the session again to retry"
    return "no transcript: end the session with save_transcript true to keep one"


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(
    session_id: str, user: CurrentUser, db: DbDep, session_events: SessionEventsDep
) -> None:
    """Delete a session and its history."""
    events = await changed(db, [session_id], SessionChange.DELETED)  # the link goes with it
    await service.delete_session(db, user=user, session_id=session_id)
    await session_events.publish(events)


@router.get("/sessions/{session_id}/export")
async def export_session(
    session_id: str, user: CurrentUser, db: DbDep, format: Literal["json", "md"] = "md"
) -> Response:
    """Download a session as Markdown (`format=md`) or JSON (`format=json`)."""
    session = await service.get_session(db, user=user, session_id=session_id)
    messages = await branches.tree(db, session_id=session.id)
    filename = f"chat-{session.id[:8]}.{format}"
    if format == "json":
        body, media = exports.export_json(session, messages), "application/json"
    else:
        body, media = exports.export_markdown(session, messages), "text/markdown; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
