"""A chat's history as a tree: versions of answers and edited prompts, and the branch shown.

Every message points at the one it follows (`parent_id`). Regenerating adds an answer beside
the old one; editing a prompt adds a prompt beside the old one, which starts a new branch.
The session remembers the last message of the branch that is shown; the page, the API, the
exports and the model's context all read that branch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.chat.models import ChatMessage, ChatSession
from meatlizard.core.db import utcnow
from meatlizard.core.errors import NotFound


@dataclass(frozen=True)
class Tree:
    """All of a session's messages, indexed by id and by parent."""

    messages: dict[int, ChatMessage]
    children: dict[int | None, list[int]]

    @classmethod
    def of(cls, messages: Sequence[ChatMessage]) -> Tree:
        """Index messages (in id order, so versions are numbered oldest first)."""
        children: dict[int | None, list[int]] = defaultdict(list)
        for m in sorted(messages, key=lambda m: m.id):
            children[m.parent_id].append(m.id)
        return cls({m.id: m for m in messages}, dict(children))

    def branch(self, leaf_id: int | None) -> list[ChatMessage]:
        """Return the messages from the first one down to `leaf_id`."""
        path: list[ChatMessage] = []
        seen: set[int] = set()
        while leaf_id is not None and leaf_id in self.messages and leaf_id not in seen:
            seen.add(leaf_id)
            path.append(self.messages[leaf_id])
            leaf_id = self.messages[leaf_id].parent_id
        return path[::-1]

    def versions(self, message: ChatMessage) -> list[int]:
        """Return the ids of this message and its alternatives, oldest first."""
        return self.children.get(message.parent_id, [message.id])

    def newest_leaf(self, message_id: int) -> int:
        """Follow the newest child from a message down to the end of its branch."""
        while self.children.get(message_id):
            message_id = self.children[message_id][-1]
        return message_id

    def hidden(self, leaf_id: int | None) -> list[ChatMessage]:
        """Return the messages not on the shown branch, in id order."""
        shown = {m.id for m in self.branch(leaf_id)}
        return [m for i, m in sorted(self.messages.items()) if i not in shown]


async def tree(db: AsyncSession, *, session_id: str) -> Tree:
    """Load all of a session's messages."""
    rows = await db.scalars(select(ChatMessage).where(ChatMessage.session_id == session_id))
    return Tree.of(list(rows))


async def show(db: AsyncSession, *, session: ChatSession, message_id: int) -> None:
    """Show the branch through this message (its newest continuation) and remember it."""
    messages = await tree(db, session_id=session.id)
    if message_id not in messages.messages:
        raise NotFound("no such message in this chat")
    session.current_leaf_id = messages.newest_leaf(message_id)
    session.updated_at = utcnow()
    await db.commit()
