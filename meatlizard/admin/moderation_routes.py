"""Reporting content (everyone) and moderating it (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from meatlizard.admin import moderation
from meatlizard.admin.deps import ContentKindsDep
from meatlizard.admin.models import ContentReport
from meatlizard.admin.moderation import ContentKinds
from meatlizard.api.deps import AdminUser, CurrentUser, DbDep, RowId

router = APIRouter(prefix="/admin", tags=["admin"])
reports_router = APIRouter(prefix="/reports", tags=["reports"])


class ReportCreate(BaseModel):
    """A complaint about a paste, link, file or video."""

    model_config = ConfigDict(extra="forbid")

    content_type: str = Field(min_length=1, max_length=16)
    content_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=3, max_length=2000)


class ReportRead(BaseModel):
    """A report and what was done about it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    content_type: str
    content_id: str
    reason: str
    status: str
    created_at: datetime
    resolved_at: datetime | None


def _word_runs(word: str) -> str:
    if word.strip():
        moderation.check_rule(word.strip(), word=True)
    return word


def _pattern_runs(pattern: str) -> str:
    return moderation.check_rule(pattern) if pattern else pattern


# Checked one by one, so a refusal names the item (loc ["body", "patterns", 2]) and why.
Word = Annotated[str, AfterValidator(_word_runs)]
Pattern = Annotated[str, AfterValidator(_pattern_runs)]


class ModerationListsBody(BaseModel):
    """Words (whole-word, case-insensitive) and regular expressions that refuse prompts."""

    model_config = ConfigDict(extra="forbid")

    words: list[Word] = Field(default_factory=list, max_length=moderation.MAX_RULES)
    patterns: list[Pattern] = Field(default_factory=list, max_length=moderation.MAX_RULES)


class ModerationListsRead(BaseModel):
    """The run-time lists as stored (an entry stored before patterns were checked included)."""

    words: list[str]
    patterns: list[str]


@reports_router.post("", status_code=status.HTTP_201_CREATED, response_model=ReportRead)
async def report_content(
    body: ReportCreate, user: CurrentUser, db: DbDep, kinds: ContentKindsDep
) -> ReportRead:
    """Report content to the admins."""
    filed = await moderation.report(
        db,
        kinds,
        reporter=user,
        content_type=body.content_type,
        content_id=body.content_id,
        reason=body.reason,
    )
    return ReportRead.model_validate(filed)


@router.get("/reports", response_model=list[ReportRead])
async def list_reports(
    user: AdminUser, db: DbDep, status: Literal["open", "taken_down", "dismissed"] | None = None
) -> list[ReportRead]:
    """List content reports, newest first."""
    found = await moderation.list_reports(db, actor=user, status=status)
    return [ReportRead.model_validate(r) for r in found]


async def _resolve(
    report_id: RowId, user: AdminUser, db: DbDep, kinds: ContentKinds, take_down: bool
) -> list[ContentReport]:
    closed = await moderation.resolve(
        db, kinds, actor=user, report_id=report_id, take_down=take_down
    )
    if take_down:
        await moderation.after_take_down(kinds, closed[0].content_type, closed[0].content_id)
    return closed


@router.post("/reports/{report_id}/takedown", response_model=list[ReportRead])
async def take_down(
    report_id: RowId, user: AdminUser, db: DbDep, kinds: ContentKindsDep
) -> list[ReportRead]:
    """Remove the reported content and close every open report about it."""
    closed = await _resolve(report_id, user, db, kinds, take_down=True)
    return [ReportRead.model_validate(r) for r in closed]


@router.post("/reports/{report_id}/dismiss", response_model=list[ReportRead])
async def dismiss(
    report_id: RowId, user: AdminUser, db: DbDep, kinds: ContentKindsDep
) -> list[ReportRead]:
    """Close a report without removing anything."""
    closed = await _resolve(report_id, user, db, kinds, take_down=False)
    return [ReportRead.model_validate(r) for r in closed]


@router.get("/moderation", response_model=ModerationListsRead)
async def get_moderation(user: AdminUser, db: DbDep) -> ModerationListsRead:
    """Return the run-time moderation lists (added to MODERATION_WORDS/PATTERNS)."""
    lists = await moderation.moderation_lists(db)
    return ModerationListsRead(words=lists.words, patterns=lists.patterns)


@router.put("/moderation", response_model=ModerationListsRead)
async def put_moderation(
    body: ModerationListsBody, user: AdminUser, db: DbDep
) -> ModerationListsRead:
    """Replace the run-time moderation lists; they apply to the next prompt."""
    lists = await moderation.set_moderation_lists(
        db, actor=user, words=body.words, patterns=body.patterns
    )
    return ModerationListsRead(words=lists.words, patterns=lists.patterns)
