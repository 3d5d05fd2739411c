"""Chat: prompt size, rate and the server's content rules."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from meatlizard.core.patterns import compile_pattern
from meatlizard.core.settings.rates import Rate, check_rate


class ChatSettings(BaseModel):
    # Guards.
    max_prompt_chars: int = Field(default=8000, ge=1, le=1_000_000)
    chat_rate_limit: str = "30/minute"
    moderation_words: list[str] = Field(default_factory=list)
    moderation_patterns: list[str] = Field(default_factory=list)
    moderation_message: str = "That prompt was refused by this server's content rules."

    _check_chat_rate = field_validator("chat_rate_limit")(check_rate)

    @field_validator("moderation_patterns")
    @classmethod
    def _check_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            compile_pattern(pattern)  # PatternError (a ValueError) names it and says why
        return value

    @property
    def chat_rate(self) -> Rate:
        return Rate.parse(self.chat_rate_limit)
