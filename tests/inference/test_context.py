"""Fitting conversations into a context window."""

from __future__ import annotations

import pytest

from meatlizard.inference.context import (
    TEMPLATE_TOKENS_PER_TURN,
    Conversation,
    PromptTooLong,
    fit_context,
)
from meatlizard.inference.engine import Turn


def words(text: str) -> int:
    return len(text.split())


def conversation(*turns: tuple[str, int], system: str = "") -> Conversation:
    return Conversation(
        system_prompt=system,
        turns=[Turn(role, "w " * size) for role, size in turns],
        temperature=0.5,
        max_tokens=50,
    )


def test_everything_fits_when_small() -> None:
    request = fit_context(
        conversation(("user", 5), ("assistant", 5), ("user", 5), system="be kind"),
        count_tokens=words,
        context_window=1000,
    )
    assert [t.role for t in request.messages] == ["system", "user", "assistant", "user"]
    assert request.max_tokens == 50
    assert request.temperature == 0.5


def test_oldest_turns_go_first_and_history_starts_with_the_user() -> None:
    per_turn = 40 + TEMPLATE_TOKENS_PER_TURN
    request = fit_context(
        conversation(
            ("user", 40), ("assistant", 40), ("user", 40), ("assistant", 40), ("user", 40)
        ),
        count_tokens=words,
        context_window=50 + 2 * per_turn + 10,  # reply + two turns fit, not three
    )
    # Two turns would fit (assistant, user) but a history may not open with the assistant.
    assert [t.role for t in request.messages] == ["user"]


def test_reply_budget_shrinks_to_what_is_left() -> None:
    request = fit_context(conversation(("user", 100)), count_tokens=words, context_window=150)
    assert request.max_tokens == 150 - 100 - TEMPLATE_TOKENS_PER_TURN


def test_a_prompt_that_cannot_fit_is_refused_clearly() -> None:
    with pytest.raises(PromptTooLong, match="too long for this model"):
        fit_context(conversation(("user", 500)), count_tokens=words, context_window=256)
