"""Fit a conversation into a model's context window, oldest turns first out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from meatlizard.inference.engine import GenerationRequest, InferenceError, Turn

# Tokens reserved per message for the chat template's role markers.
TEMPLATE_TOKENS_PER_TURN = 6
MIN_REPLY_TOKENS = 32


class PromptTooLong(InferenceError):
    """The system prompt and the newest prompt do not fit the model's window together."""

    user_facing = True

    def __init__(self, message: str, *, tokens: int = 0, window: int = 0) -> None:
        super().__init__(message)
        self.tokens = tokens  # what the whole conversation takes, every message counted
        self.window = window


@dataclass(frozen=True)
class Conversation:
    """What the chat side sends to whichever engine answers: the whole history, untrimmed."""

    system_prompt: str
    turns: list[Turn]  # oldest first, ending with the user's prompt
    temperature: float
    max_tokens: int
    session_id: str = ""  # bound into encrypted payloads when the answer comes from a worker
    prompt_id: int | None = None  # the stored prompt this answers (the chat side's, if any)


def fit_context(
    conversation: Conversation, *, count_tokens: Callable[[str], int], context_window: int
) -> GenerationRequest:
    """Keep the newest turns that fit with room for the reply; raise PromptTooLong if none do."""

    def cost(text: str) -> int:
        return count_tokens(text) + TEMPLATE_TOKENS_PER_TURN

    system = conversation.system_prompt
    budget = context_window - (cost(system) if system else 0)
    if not conversation.turns:
        raise PromptTooLong("nothing to answer")
    latest = cost(conversation.turns[-1].content)
    if latest + MIN_REPLY_TOKENS > budget:
        total = context_window - budget + sum(cost(t.content) for t in conversation.turns)
        what = "the system prompt and the prompt are" if system else "the prompt is"
        raise PromptTooLong(
            f"{what} too long for this model ({total} tokens; "
            f"the model's window is {context_window})",
            tokens=total,
            window=context_window,
        )
    reply = min(conversation.max_tokens, budget - latest)
    kept: list[Turn] = []
    used = reply
    for turn in reversed(conversation.turns):
        used += cost(turn.content)
        if used > budget:
            break
        kept.append(turn)
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)  # chat templates expect the conversation to open with the user
    if system:
        kept.insert(0, Turn("system", system))
    return GenerationRequest(kept, conversation.temperature, reply)
