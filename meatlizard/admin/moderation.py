"""Moderation: word/pattern lists editable at run time, content reports and takedowns.

Content kinds plug in with `register_content_kind` (pastes here; links, files and videos
register theirs), so reports and takedowns work the same for every kind.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.admin.models import AppSetting, ContentReport
from meatlizard.admin.service import require_admin
from meatlizard.auth.models import User
from meatlizard.chat.guards import Moderation
from meatlizard.core.db import utcnow
from meatlizard.core.errors import InvalidInput, NotFound
from meatlizard.core.storage import ObjectStorage
from meatlizard.pastes.models import Paste

if TYPE_CHECKING:
    from meatlizard.runtime import Services

MODERATION_KEY = "moderation"
MAX_RULES = 500
OPEN, TAKEN_DOWN, DISMISSED = "open", "taken_down", "dismissed"


@dataclass(frozen=True)
class ContentKind:
    """How to find and remove one kind of user content."""

    exists: Callable[[AsyncSession, str], Awaitable[bool]]
    # Runs inside the takedown's transaction: hide or remove the rows.
    take_down: Callable[[AsyncSession, ObjectStorage, str], Awaitable[None]]
    # Runs after it commits: drop cached copies, delete stored objects.
    after_take_down: Callable[[Services, str], Awaitable[None]] | None = None


CONTENT_KINDS: dict[str, ContentKind] = {}


def register_content_kind(name: str, kind: ContentKind) -> None:
    """Make a kind of content reportable and removable by admins."""
    CONTENT_KINDS[name] = kind


async def _paste_exists(db: AsyncSession, paste_id: str) -> bool:
    return await db.get(Paste, paste_id) is not None


async def _paste_take_down(db: AsyncSession, storage: ObjectStorage, paste_id: str) -> None:
    paste = await db.get(Paste, paste_id)
    if paste is not None:
        await db.delete(paste)


async def _paste_forget(services: Services, paste_id: str) -> None:
    await services.pastes.forget(paste_id)  # no reader gets a cached copy after the takedown


register_content_kind("paste", ContentKind(_paste_exists, _paste_take_down, _paste_forget))


async def after_take_down(services: Services, content_type: str, content_id: str) -> None:
    """Finish a committed takedown outside the database (caches, stored objects)."""
    kind = CONTENT_KINDS.get(content_type)
    if kind is not None and kind.after_take_down is not None:
        await kind.after_take_down(services, content_id)


@dataclass(frozen=True)
class ModerationLists:
    """Words and regular expressions that refuse a prompt, on top of the settings' lists."""

    words: list[str]
    patterns: list[str]


async def moderation_lists(db: AsyncSession) -> ModerationLists:
    """Return the lists admins set (empty until they set some)."""
    setting = await db.get(AppSetting, MODERATION_KEY)
    value = setting.value if setting is not None else {}
    return ModerationLists(list(value.get("words", [])), list(value.get("patterns", [])))


def _clean(words: list[str], patterns: list[str]) -> ModerationLists:
    words = sorted({w.strip() for w in words if w.strip()})
    patterns = [p for p in dict.fromkeys(patterns) if p]
    if len(words) + len(patterns) > MAX_RULES:
        raise InvalidInput(f"at most {MAX_RULES} words and patterns together")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                f"pattern {pattern!r} is not a valid regular expression: {exc}"
            ) from None
    return ModerationLists(words, patterns)


async def set_moderation_lists(
    db: AsyncSession, *, actor: User, words: list[str], patterns: list[str]
) -> ModerationLists:
    """Replace the run-time moderation lists; web and Discord prompts obey them at once."""
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


async def check_prompt(db: AsyncSession, prompt: str, message: str) -> None:
    """Refuse a prompt that breaks the admins' run-time lists."""
    lists = await moderation_lists(db)
    if lists.words or lists.patterns:
        Moderation(lists.words, lists.patterns, message).check(prompt)


async def report(
    db: AsyncSession, *, reporter: User | None, content_type: str, content_id: str, reason: str
) -> ContentReport:
    """File a report about a piece of content that exists."""
    kind = CONTENT_KINDS.get(content_type)
    if kind is None:
        raise InvalidInput(f"content_type must be one of: {', '.join(sorted(CONTENT_KINDS))}")
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
    db: AsyncSession, storage: ObjectStorage, *, actor: User, report_id: int, take_down: bool
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
        await CONTENT_KINDS[filed.content_type].take_down(db, storage, filed.content_id)
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


# Domains that plug their content in (imported last: they import this module's registry).
import meatlizard.files.reports  # noqa: E402
import meatlizard.links.reports  # noqa: E402
import meatlizard.videos.reports  # noqa: E402, F401
