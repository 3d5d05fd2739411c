"""The Markov fallback: answers from its shipped corpus, stops when asked."""

from __future__ import annotations

import asyncio

from meatlizard.inference.engine import GenerationRequest, GenerationStats, Turn
from meatlizard.inference.markov import MarkovEngine


async def test_answers_with_words_from_the_corpus() -> None:
    engine = MarkovEngine(seed=7)
    stats = GenerationStats()
    pieces = [
        p
        async for p in engine.stream(
            GenerationRequest([Turn("user", "tell me about the lizard")]), asyncio.Event(), stats
        )
    ]
    text = "".join(pieces)
    assert len(text.split()) >= 5
    assert stats.token_count == len(pieces)
    assert engine.is_fallback


async def test_stops_when_cancelled() -> None:
    engine = MarkovEngine(seed=1)
    cancel = asyncio.Event()
    stats = GenerationStats()
    pieces = []
    async for piece in engine.stream(GenerationRequest([Turn("user", "hi")]), cancel, stats):
        pieces.append(piece)
        cancel.set()
    assert len(pieces) == 1
    assert stats.stopped
