"""Moderation: the run-time word/pattern lists, content reports and takedowns.

Each domain describes its reportable content with a `ContentKind` (in its `reports.py`);
the composition root hands them in, so reports and takedowns work the same for every kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.admin.models import AppSetting, ContentReport
from meatlizard.admin.service import requests_enabled, require_admin
from meatlizard.auth.models import User
from meatlizard.chat.guards import ModerationLists
from meatlizard.core.db import utcnow
from meatlizard.core.errors import InvalidInput, NotFound
from meatlizard.core.patterns import PatternError, compile_pattern, word_pattern

MAX_RULES = 500
MODERATION_KEY = "moderation"  # the AppSetting holding the lists admins edit at run time
OPEN, TAKEN_DOWN, DISMISSED = "open", "taken_down", "dismissed"


@dataclass(frozen=True)
class ContentKind:
    """How to find and remove one kind of user content."""

    exists: Callable[[AsyncSession, str], Awaitable[bool]]
    # Runs inside the takedown's transaction: hide or remove the rows.
    take_down: Callable[[AsyncSession, str], Awaitable[None]]
    # Runs after it commits: drop cached copies, delete stored objects.
    after_take_down: Callable[[str], Awaitable[None]] | None = None


ContentKinds = Mapping[str, ContentKind]  # by content type: "paste", "link", ...


async def after_take_down(kinds: ContentKinds, content_type: str, content_id: str) -> None:
    """Finish a committed takedown outside the database (caches, stored objects)."""
    kind = kinds.get(content_type)
    if kind is not None and kind.after_take_down is not None:
        await kind.after_take_down(content_id)


def check_rule(rule: str, *, word: bool = False) -> str:
    """Return the word or pattern, or raise PatternError if the prompt guard could not run it."""
    compile_pattern(word_pattern(rule) if word else rule)
    return rule


def _clean(words: list[str], patterns: list[str]) -> ModerationLists:
    words = sorted({w.strip() for w in words if w.strip()})
    patterns = [p for p in dict.fromkeys(patterns) if p]
    if len(words) + len(patterns) > MAX_RULES:
        raise InvalidInput(f"at most {MAX_RULES} words and patterns together")
    try:
        for word in words:
            check_rule(word, word=True)
        for pattern in patterns:
            check_rule(pattern)
    except PatternError as exc:
        raise InvalidInput(str(exc)) from None
    return ModerationLists(words, patterns)


async def moderation_lists(db: AsyncSession) -> ModerationLists:
    """Return the lists admins set (empty until they set some)."""
    setting = await db.get(AppSetting, MODERATION_KEY)
    value = setting.value if setting is not None else {}
    return ModerationLists(list(value.get("words", [])), list(value.get("patterns", [])))


class AdminRules:
    """The chat guard's run-time rules, as admins set them (see `chat.guards.RunTimeRules`)."""

    async def requests_enabled(self, db: AsyncSession) -> bool:
        return await requests_enabled(db)

    async def moderation_lists(self, db: AsyncSession) -> ModerationLists:
        return await moderation_lists(db)


async def set_moderation_lists(
    db: AsyncSession, *, actor: User, words: list[str], patterns: list[str]
) -> ModerationLists:
    """Replace the run-time moderation lists; every prompt obeys them at once."""
    require_admin(actor)
    lists = _clean(words, patterns)
    value = {"words": lists.words, "patterns": lists.patterns}
    setting = await db.get(AppSetting, MODERATION_KEY)
    if setting is None:
        db.add(AppSetting(key=MODERATION_KEY, value=value))
    else:
        setting.value = value
    audit.record(
        db,
        action="moderation.update",
        actor_id=actor.id,
        words=lists.words,
        patterns=lists.patterns,
    )
    await db.commit()
    return lists


async def report(
    db: AsyncSession,
    kinds: ContentKinds,
    *,
    reporter: User | None,
    content_type: str,
    content_id: str,
    reason: str,
) -> ContentReport:
    """File a report about a piece of content that exists."""
    kind = kinds.get(content_type)
    if kind is None:
        raise InvalidInput(f"content_type must be one of: {', '.join(sorted(kinds))}")
    if not await kind.exists(db, content_id):
        raise NotFound(f"no {content_type} with id {content_id!r}")
    filed = ContentReport(
        content_type=content_type,
        content_id=content_id,
        reason=reason.strip(),
        reporter_id=reporter.id if reporter else None,
    )
    db.add(filed)
    await db.commit()
    return filed


async def list_reports(db: AsyncSession, *, actor: User, status: str | None) -> list[ContentReport]:
    """Return reports, newest first, optionally only those with a status."""
    require_admin(actor)
    query = select(ContentReport).order_by(ContentReport.id.desc()).limit(200)
    if status is not None:
        query = query.where(ContentReport.status == status)
    return list(await db.scalars(query))


async def resolve(
    db: AsyncSession, kinds: ContentKinds, *, actor: User, report_id: int, take_down: bool
) -> list[ContentReport]:
    """Take the reported content down (closing every open report on it) or dismiss one report."""
    require_admin(actor)
    filed = await db.get(ContentReport, report_id)
    if filed is None:
        raise NotFound("no such report")
    if filed.status != OPEN:
        raise InvalidInput(f"this report is already {filed.status.replace('_', ' ')}")
    closed = [filed]
    if take_down:
        await kinds[filed.content_type].take_down(db, filed.content_id)
        closed = list(
            await db.scalars(
                select(ContentReport).where(
                    ContentReport.content_type == filed.content_type,
                    ContentReport.content_id == filed.content_id,
                    ContentReport.status == OPEN,
                )
            )
        )
    for each in closed:
        each.status = TAKEN_DOWN if take_down else DISMISSED
        each.resolved_at = utcnow()
        each.resolved_by = actor.id
    audit.record(
        db,
        action="content.takedown" if take_down else "report.dismiss",
        actor_id=actor.id,
        target=f"{filed.content_type}:{filed.content_id}",
        reports=[r.id for r in closed],
    )
    await db.commit()
    return closed
