"""Continuous batching on the real SmolLM2: many answers at once, each one its own.

The tests run on both engines, llama.cpp in this process and llama.cpp's own server as a
managed subprocess (MODEL_ENGINE=llama-server), but for the copy of a busy chat's system
prompt, which only the in-process engine makes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceEngine, Turn
from meatlizard.inference.llama import LlamaEngine
from meatlizard.inference.server_engine import ServerEngine
from meatlizard.inference.service import LocalInference

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how rain forms, step by step.",
    "Describe a walk through a busy market.",
    "List some things people do on a sunny day.",
    "Tell me about the history of bicycles.",
    "Write a poem about the sea at night.",
    "Explain why the sky looks blue.",
    "Describe your favourite kind of weather.",
]
REPLY_TOKENS = 24


@dataclass
class Run:
    """What one answer streamed."""

    pieces: list[str] = field(default_factory=list)
    stats: GenerationStats = field(default_factory=GenerationStats)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def request(prompt: str, **options: object) -> GenerationRequest:
    values: dict[str, object] = {"temperature": 0.0, "max_tokens": REPLY_TOKENS}
    values.update(options)
    return GenerationRequest([Turn("user", prompt)], **values)  # type: ignore[arg-type]


def engine_of(model_inference: LocalInference) -> LlamaEngine:
    engine: InferenceEngine = model_inference.engine_for("smollm2")
    assert isinstance(engine, LlamaEngine)
    assert engine.parallel >= len(PROMPTS)
    return engine


@pytest.fixture(params=["in-process", "llama-server"])
def engine(request: pytest.FixtureRequest) -> InferenceEngine:
    """The shared model on one engine, with a slot for each of PROMPTS."""
    if request.param == "in-process":
        return engine_of(request.getfixturevalue("model_inference"))
    served: ServerEngine = request.getfixturevalue("llama_server_engine")
    assert served.parallel >= len(PROMPTS)
    return served


async def stream(
    engine: InferenceEngine,
    req: GenerationRequest,
    run: Run,
    log: list[tuple[int, str]] | None = None,
    index: int = 0,
    stop_after: int | None = None,
) -> Run:
    async for piece in engine.stream(req, run.cancel, run.stats):
        if not run.pieces and log is not None:
            log.append((index, "first"))
        run.pieces.append(piece)
        if stop_after is not None and len(run.pieces) == stop_after:
            run.cancel.set()
    if log is not None:
        log.append((index, "done"))
    return run


async def together(
    engine: InferenceEngine, requests: list[GenerationRequest], **kwargs: object
) -> list[Run]:
    runs = [Run() for _ in requests]
    await asyncio.gather(
        *(
            stream(engine, r, run, index=i, **kwargs)
            for i, (r, run) in enumerate(zip(requests, runs, strict=True))
        )  # type: ignore[arg-type]
    )
    return runs


async def test_eight_chats_stream_interleaved(engine: InferenceEngine) -> None:
    log: list[tuple[int, str]] = []
    runs = await together(engine, [request(p) for p in PROMPTS], log=log)
    firsts = [n for n, (_, kind) in enumerate(log) if kind == "first"]
    dones = [n for n, (_, kind) in enumerate(log) if kind == "done"]
    assert len(firsts) == len(PROMPTS), log
    # Every answer had started before the first one finished: they ran side by side.
    assert max(firsts) < min(dones), log
    assert all(run.text.strip() for run in runs)


async def test_batched_greedy_answers_equal_solo_ones(engine: InferenceEngine) -> None:
    solo = [await stream(engine, request(p), Run()) for p in PROMPTS[:3]]
    batched = await together(engine, [request(p) for p in PROMPTS])
    assert [run.text for run in batched[:3]] == [run.text for run in solo]


async def test_a_stopped_chat_leaves_the_others_untouched(engine: InferenceEngine) -> None:
    reference = await together(engine, [request(p) for p in PROMPTS[:4]])
    runs = [Run() for _ in range(4)]
    stopped = stream(engine, request(PROMPTS[1]), runs[1], stop_after=2)
    others = [stream(engine, request(PROMPTS[i]), runs[i]) for i in (0, 2, 3)]
    await asyncio.gather(stopped, *others)
    assert runs[1].stats.stopped
    assert runs[1].stats.token_count <= 3  # stopped within one token of asking
    assert [runs[i].text for i in (0, 2, 3)] == [reference[i].text for i in (0, 2, 3)]


async def test_each_chat_keeps_its_own_sampling_settings(engine: InferenceEngine) -> None:
    cold = request(PROMPTS[0])
    hot = [request(p, temperature=1.5, top_p=1.0, min_p=0.0) for p in PROMPTS[1:]]
    first = await together(engine, [cold, *hot])
    second = await together(engine, [cold, *hot])
    # The temperature-0 answer is the same each time, whatever its hot neighbours drew.
    assert first[0].text == second[0].text
    assert [r.text for r in first[1:]] != [r.text for r in second[1:]]
    # A seed makes a hot answer repeatable; stop strings and max tokens apply to one chat.
    seeded = request(PROMPTS[2], temperature=1.0, seed=7)
    short = request(PROMPTS[3], max_tokens=5)
    stop = first[0].text[10:14]
    stopped = request(PROMPTS[0], stop=(stop,))
    a, b, c = await together(engine, [seeded, short, stopped])
    again = await stream(engine, seeded, Run())
    assert a.text == again.text
    assert b.stats.extra["generated_tokens"] == 5
    assert c.text == first[0].text[: first[0].text.index(stop)]


async def test_the_next_turn_reuses_the_cached_prefix(engine: InferenceEngine) -> None:
    turns = [Turn("user", PROMPTS[4])]
    first = await stream(engine, GenerationRequest(turns, 0.0, REPLY_TOKENS), Run())
    turns += [Turn("assistant", first.text), Turn("user", "Tell me more.")]
    second = await stream(engine, GenerationRequest(turns, 0.0, REPLY_TOKENS), Run())
    reused = second.stats.extra["reused_prompt_tokens"]
    assert reused > 0.5 * second.stats.extra["prompt_tokens"]


SYSTEM = "You answer questions for a community of gardeners, briefly and kindly. " * 12
COMPOST, TULIPS = "What is compost?", "How deep should tulips be planted?"


def gardening(question: str, max_tokens: int = REPLY_TOKENS) -> GenerationRequest:
    return GenerationRequest([Turn("system", SYSTEM), Turn("user", question)], 0.0, max_tokens)


async def test_a_chat_starts_from_a_copy_of_another_chats_system_prompt() -> None:
    # In process only: llama-server gives a new chat the idle slot that holds most of its
    # prompt (test_server_engine.py) but copies nothing from a busy one.
    # Two slots of their own, so which slot holds what is known.
    engine = LlamaEngine("smollm2", bundled_model_path(), n_ctx=1024, n_threads=1, parallel=2)
    try:
        await stream(engine, gardening(COMPOST), Run())
        # The second question takes that slot and reads only its own words.
        own = await stream(engine, gardening(TULIPS), Run())
        # While the first question comes again and holds that slot, the second one comes
        # again too: it gets the other slot, which holds nothing, and a copy of the busy
        # slot's system prompt.
        busy, started = Run(), asyncio.Event()

        async def hold() -> None:
            async for _ in engine.stream(gardening(COMPOST, 200), busy.cancel, busy.stats):
                started.set()

        holder = asyncio.create_task(hold())
        await asyncio.wait_for(started.wait(), 60)
        copied = await stream(engine, gardening(TULIPS), Run())
        busy.cancel.set()
        await holder
    finally:
        await engine.close()
    for run in (own, copied):
        assert run.stats.extra["reused_prompt_tokens"] > 0.8 * run.stats.extra["prompt_tokens"]
    # A copied cache answers exactly as the slot's own cache of the same words does.
    assert copied.text == own.text
