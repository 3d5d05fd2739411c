"""Pages of the admin's user and chat-session lists, filtered in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.service import require_admin
from meatlizard.auth.models import User
from meatlizard.chat.models import ChatMessage, ChatSession

ROWS_PER_PAGE = 50
MAX_FILTER_CHARS = 100
Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list: its rows, where it stands, and the filter that made it."""

    rows: list[Row]
    number: int
    total: int
    query: str

    @property
    def pages(self) -> int:
        """Return how many pages the filtered list has (at least one)."""
        return max(1, -(-self.total // ROWS_PER_PAGE))


def _pattern(query: str) -> str:
    """Return a LIKE pattern matching `query` anywhere, its wildcards taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _clean(query: str, number: int) -> tuple[str, int]:
    return query.strip()[:MAX_FILTER_CHARS], max(1, number)


async def _count(db: AsyncSession, statement: Select[int]) -> int:
    return int(await db.scalar(statement) or 0)


async def user_page(
    db: AsyncSession, *, actor: User, query: str = "", number: int = 1
) -> Page[tuple[User, int]]:
    """Return a page of accounts (oldest first) whose name contains `query`, with chat counts."""
    require_admin(actor)
    query, number = _clean(query, number)
    matches = func.lower(User.username).like(_pattern(query), escape="\\")
    total = await _count(db, select(func.count()).select_from(User).where(matches))
    counts = (
        select(ChatSession.user_id, func.count().label("n"))
        .group_by(ChatSession.user_id)
        .subquery()
    )
    rows = await db.execute(
        select(User, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.user_id == User.id)
        .where(matches)
        .order_by(User.id)
        .offset((number - 1) * ROWS_PER_PAGE)
        .limit(ROWS_PER_PAGE)
    )
    return Page([(user, int(n)) for user, n in rows.all()], number, total, query)


async def session_page(
    db: AsyncSession, *, actor: User, query: str = "", number: int = 1
) -> Page[tuple[ChatSession, str, int]]:
    """Return a page of chat sessions (latest activity first) by title or owner name."""
    require_admin(actor)
    query, number = _clean(query, number)
    pattern = _pattern(query)
    matches = func.lower(ChatSession.title).like(pattern, escape="\\") | func.lower(
        User.username
    ).like(pattern, escape="\\")
    total = await _count(
        db,
        select(func.count())
        .select_from(ChatSession)
        .join(User, User.id == ChatSession.user_id)
        .where(matches),
    )
    counts = (
        select(ChatMessage.session_id, func.count().label("n"))
        .group_by(ChatMessage.session_id)
        .subquery()
    )
    rows = await db.execute(
        select(ChatSession, User.username, func.coalesce(counts.c.n, 0))
        .join(User, User.id == ChatSession.user_id)
        .outerjoin(counts, counts.c.session_id == ChatSession.id)
        .where(matches)
        .order_by(ChatSession.updated_at.desc(), ChatSession.id)
        .offset((number - 1) * ROWS_PER_PAGE)
        .limit(ROWS_PER_PAGE)
    )
    return Page([(s, name, int(n)) for s, name, n in rows.all()], number, total, query)
