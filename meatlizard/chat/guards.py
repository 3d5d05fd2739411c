"""Checks every prompt passes before it reaches a model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.models import AppSetting
from meatlizard.core.errors import InvalidInput, Refused, TooManyRequests
from meatlizard.core.rate_limit import RateLimiter


class Moderation:
    """Refuses prompts that contain configured words or match configured patterns."""

    def __init__(self, words: list[str], patterns: list[str], message: str) -> None:
        parts = [rf"\b{re.escape(w)}\b" for w in words if w.strip()] + list(patterns)
        self._regex = re.compile("|".join(f"(?:{p})" for p in parts), re.I) if parts else None
        self.message = message

    def check(self, text: str) -> None:
        """Raise Refused when the text breaks a rule."""
        if self._regex is not None and self._regex.search(text):
            raise Refused(self.message)


class PromptGuard:
    """Length, moderation and per-user rate limit, in that order."""

    def __init__(self, *, max_chars: int, moderation: Moderation, limiter: RateLimiter) -> None:
        self.max_chars = max_chars
        self.moderation = moderation
        self.limiter = limiter

    def check_text(self, prompt: str) -> str:
        """Return the prompt stripped, or raise a precise error."""
        prompt = prompt.strip()
        if not prompt:
            raise InvalidInput("the prompt is empty")
        if "\x00" in prompt:
            raise InvalidInput("the prompt contains a NUL character")
        if len(prompt) > self.max_chars:
            raise InvalidInput(
                f"the prompt is {len(prompt)} characters long; the limit is {self.max_chars}"
            )
        self.moderation.check(prompt)
        return prompt

    async def check_rate(self, user_id: int) -> None:
        """Count one prompt against the user's budget, refusing when it is spent."""
        decision = await self.limiter.hit(str(user_id))
        if not decision.allowed:
            wait = max(1, round(decision.retry_after_seconds))
            raise TooManyRequests(
                f"too many prompts; try again in {wait} s", decision.retry_after_seconds
            )


MODERATION_KEY = "moderation"  # the AppSetting holding the lists admins edit at run time


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


async def check_prompt(db: AsyncSession, prompt: str, message: str) -> None:
    """Refuse a prompt that breaks the admins' run-time lists."""
    lists = await moderation_lists(db)
    if lists.words or lists.patterns:
        Moderation(lists.words, lists.patterns, message).check(prompt)
