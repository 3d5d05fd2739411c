"""Markov-chain fallback that answers when no model or worker is available."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import markovify

from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceEngine

CORPUS_PATH = Path(__file__).parent / "corpus" / "fallback.txt"
FALLBACK_ALIAS = "markov-fallback"
SENTENCES_PER_ANSWER = 3
WORD_RE = re.compile(r"\S+\s*")


class MarkovEngine(InferenceEngine):
    """Generates plausible sentences from a small shipped corpus; clearly not a real model."""

    is_fallback = True
    alias = FALLBACK_ALIAS
    context_window = 1_000_000

    def __init__(self, corpus: str | None = None, *, seed: int | None = None) -> None:
        text = corpus if corpus is not None else CORPUS_PATH.read_text(encoding="utf-8")
        self._model = markovify.NewlineText(text, state_size=1)
        self._random = random.Random(seed)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def compose(self, prompt: str) -> str:
        """Return a short answer, starting from a word of the prompt when the chain knows it."""
        sentences: list[str] = []
        for word in self._random.sample(prompt.split(), k=min(5, len(prompt.split()))):
            try:
                sentence = self._model.make_sentence_with_start(word.strip("?!.,"), strict=False)
            except (KeyError, markovify.text.ParamError):
                sentence = None
            if sentence:
                sentences.append(sentence)
                break
        attempts = 0
        while len(sentences) < SENTENCES_PER_ANSWER and attempts < 50:
            attempts += 1
            sentence = self._model.make_sentence(tries=20, test_output=False)
            if sentence and sentence not in sentences:
                sentences.append(sentence)
        return " ".join(sentences)

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        prompt = next((t.content for t in reversed(request.messages) if t.role == "user"), "")
        loop = asyncio.get_running_loop()
        started = loop.time()
        for piece in WORD_RE.findall(self.compose(prompt))[: request.max_tokens]:
            if cancel.is_set():
                break
            if stats.time_to_first_token is None:
                stats.time_to_first_token = loop.time() - started
            stats.token_count += 1
            yield piece
            await asyncio.sleep(0)  # let the stop message through between words
        stats.seconds = loop.time() - started
        stats.stopped = cancel.is_set()
