"""The one guard every prompt passes before it reaches a model, whatever door it came through.

The web chat, the Discord bots (both through `ChatFlow`, new prompts, edits and regenerate)
and the OpenAI-compatible API call `PromptGuard.admit` with everything the model would be
sent: the prompt and every user and system message around it. Each is checked against the
settings (length, NUL, MODERATION_WORDS/PATTERNS) and against the lists admins edit while the
server runs, which the admin domain provides through `RunTimeRules`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.core.errors import InvalidInput, Refused, TooManyRequests
from meatlizard.core.patterns import PatternError, PatternSet, compile_pattern, word_pattern
from meatlizard.core.rate_limit import RateLimiter

log = logging.getLogger(__name__)
PAUSED = "an admin has paused new AI requests; try again later"


@dataclass(frozen=True)
class ModerationLists:
    """Words and regular expressions that refuse a prompt, on top of the settings' lists."""

    words: list[str]
    patterns: list[str]


class RunTimeRules(Protocol):
    """What admins switch while the server runs; the admin domain provides it."""

    async def requests_enabled(self, db: AsyncSession) -> bool:
        """Return whether new AI requests are accepted."""

    async def moderation_lists(self, db: AsyncSession) -> ModerationLists:
        """Return the admins' words and patterns (empty until they set some)."""


@dataclass(frozen=True)
class PromptPart:
    """One message the model would be sent besides the prompt itself.

    `where` names it in a refusal ("messages[0]", "the chat's system prompt").
    """

    role: Literal["user", "system"]
    text: str
    where: str


@lru_cache(maxsize=8)
def run_time_patterns(words: tuple[str, ...], patterns: tuple[str, ...]) -> PatternSet:
    """Compile the admins' lists once per version, skipping entries that cannot run.

    Lists are checked when they are saved; an entry stored before that check (or one a newer
    engine refuses) is left out with a warning instead of breaking every prompt.
    """
    usable_words = [w for w in words if w.strip() and _runs(word_pattern(w.strip()))]
    return PatternSet(usable_words, [p for p in patterns if p and _runs(p)])


def _runs(pattern: str) -> bool:
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        log.warning("moderation: skipping a stored entry that cannot run: %s", exc)
        return False
    return True


class PromptGuard:
    """Admin switch, length, content rules and per-user rate limit, in that order."""

    def __init__(
        self,
        *,
        max_chars: int,
        words: Sequence[str],
        patterns: Sequence[str],
        message: str,
        limiter: RateLimiter,
        rules: RunTimeRules,
    ) -> None:
        self.max_chars = max_chars
        self.message = message
        self.limiter = limiter
        self.rules = rules
        self._static = PatternSet(words, patterns)  # the settings' lists, checked at start

    async def admit(
        self,
        db: AsyncSession,
        *,
        user_id: int,
        prompt: str | None,
        where: str = "",
        context: Sequence[PromptPart] = (),
    ) -> str | None:
        """Return the prompt stripped, or raise a precise error before anything is stored.

        `prompt` is the new text (None when an earlier prompt is answered again, which is then
        part of `context`); `where` names it in a refusal (default: "the prompt"); `context` is
        every other message the model would be sent.
        """
        if not await self.rules.requests_enabled(db):
            raise Refused(PAUSED)
        if prompt is not None:
            prompt = prompt.strip()
            if not prompt:
                raise InvalidInput(
                    f"{where}: the message is empty" if where else "the prompt is empty"
                )
        lists = await self.rules.moderation_lists(db)
        run_time = run_time_patterns(tuple(lists.words), tuple(lists.patterns))
        if prompt is not None:
            self._check(PromptPart("user", prompt, where), run_time)
        for part in context:
            self._check(part, run_time)
        await self.check_rate(user_id)
        return prompt

    def _check(self, part: PromptPart, run_time: PatternSet) -> None:
        subject = f"{part.where}: the message" if part.where else "the prompt"
        if "\x00" in part.text:
            raise InvalidInput(f"{subject} contains a NUL character")
        if part.role == "user" and len(part.text) > self.max_chars:
            raise InvalidInput(
                f"{subject} is {len(part.text)} characters long; the limit is {self.max_chars}"
            )
        if self._static.search(part.text) or run_time.search(part.text):
            raise Refused(f"{part.where}: {self.message}" if part.where else self.message)

    async def check_rate(self, user_id: int) -> None:
        """Count one prompt against the user's budget, refusing when it is spent."""
        decision = await self.limiter.hit(str(user_id))
        if not decision.allowed:
            wait = max(1, round(decision.retry_after_seconds))
            raise TooManyRequests(
                f"too many prompts; try again in {wait} s", decision.retry_after_seconds
            )
