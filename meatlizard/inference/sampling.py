"""One sequence's own sampler chain and the text it streams: UTF-8 pieces, stop strings."""

from __future__ import annotations

import codecs
import random

import llama_cpp as lc

from meatlizard.inference.engine import GenerationRequest

# Tokens the repeat penalty looks back over, as llama-cpp-python's default.
PENALTY_LAST_N = 64


class SamplerChain:
    """temperature, top-k, top-p, min-p, repeat penalty and a seed, for one sequence alone."""

    def __init__(self, request: GenerationRequest, n_vocab: int) -> None:
        params = lc.llama_sampler_chain_default_params()
        params.no_perf = True
        self.chain = lc.llama_sampler_chain_init(params)
        self._penalised = request.repeat_penalty != 1.0
        add = self._add
        if self._penalised:
            add(
                lc.llama_sampler_init_penalties(
                    n_vocab, PENALTY_LAST_N, request.repeat_penalty, 0, 0
                )
            )
        if request.temperature <= 0:
            add(lc.llama_sampler_init_greedy())
            return
        seed = request.seed if request.seed is not None else random.getrandbits(32)
        add(lc.llama_sampler_init_top_k(request.top_k))
        add(lc.llama_sampler_init_top_p(request.top_p, 1))
        add(lc.llama_sampler_init_min_p(request.min_p, 1))
        add(lc.llama_sampler_init_temp(request.temperature))
        add(lc.llama_sampler_init_dist(seed))

    def _add(self, sampler: object) -> None:
        lc.llama_sampler_chain_add(self.chain, sampler)

    def remember_prompt(self, tokens: list[int]) -> None:
        """Let the repeat penalty see the end of the prompt, as llama-server does."""
        if self._penalised:
            for token in tokens[-PENALTY_LAST_N:]:
                lc.llama_sampler_accept(self.chain, token)

    def sample(self, ctx: object, index: int) -> int:
        """Pick (and remember) the next token from the logits at this batch index."""
        return int(lc.llama_sampler_sample(self.chain, ctx, index))

    def close(self) -> None:
        if self.chain:
            lc.llama_sampler_free(self.chain)
            self.chain = None


class TextOut:
    """Turns token bytes into text: whole UTF-8 characters only, cut at the first stop string."""

    def __init__(self, stop: tuple[str, ...]) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in stop if s)
        self._held = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        """Return the text that is safe to show now (a possible stop-string start is held)."""
        text = self._held + self._decoder.decode(data)
        cut = min((i for i in (text.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return text[:cut]
        keep = max((_overlap(text, s) for s in self._stops), default=0)
        self._held = text[len(text) - keep :]
        return text[: len(text) - keep]

    def flush(self) -> str:
        """Return what is left at the end of the answer."""
        if self.stopped:
            return ""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return text


def _overlap(text: str, stop: str) -> int:
    """Return the length of the longest end of `text` that begins `stop`."""
    for size in range(min(len(stop) - 1, len(text)), 0, -1):
        if text.endswith(stop[:size]):
            return size
    return 0
