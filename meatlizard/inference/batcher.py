"""Continuous batching: every running answer of one model advances in the same llama_decode.

One thread owns the llama.cpp context. Each step it takes in new answers (they join the
running batch), drops stopped ones (their slot frees at once), and decodes one token for every
answer already generating plus a bounded chunk of the prompts still being read, so a long
prompt never stalls the others for long. Each answer has its own sequence id, KV cache,
sampler chain and text buffer. A slot keeps its cache after its answer ends, so the next turn
of that chat reads only what is new (like llama-server's cache_prompt).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import llama_cpp as lc

from meatlizard.inference.engine import GenerationRequest, InferenceError
from meatlizard.inference.native import BATCH_TOKENS, NativeModel
from meatlizard.inference.sampling import SamplerChain, TextOut

log = logging.getLogger(__name__)

# Prompt tokens read per step, across all answers: bounds the pause a new long prompt causes
# to the answers already streaming.
PREFILL_TOKENS_PER_STEP = 256
# A free slot whose cache holds at least this share of a new prompt's start is reused for it.
REUSE_MIN_SHARE = 0.5
# A new answer starts from a copy of another slot's cache (busy or not) when that cache holds
# at least this many more of its prompt's first tokens than its own slot does: chats that
# share a long system prompt read it once (bench/RESULTS.md: 0.64 s -> 0.05 s for 229 tokens).
COPY_MIN_TOKENS = 32


@dataclass(frozen=True)
class Ended:
    """The last event of an answer."""

    error: InferenceError | None = None
    tail: str = ""  # text held back until the end (a possible stop-string start)
    reused_tokens: int = 0  # prompt tokens found in the cache, not evaluated again
    prompt_tokens: int = 0


@dataclass(eq=False)
class Sequence:
    """One answer in the batch; `emit` gets each token's text, then Ended.

    With a `loop`, `emit` runs on that event loop, and all of a step's items for one loop are
    handed over in one call: a wake-up per token would have the loop take the GIL at each of
    the batch thread's next llama.cpp calls (measured: 4.5 ms lost per step at 8 chats).
    Without one, `emit` runs on the batch thread.
    """

    prompt: list[int]
    request: GenerationRequest
    stop: tuple[str, ...]
    emit: Callable[[object], None]
    loop: asyncio.AbstractEventLoop | None = None
    cancelled: bool = False  # set from any thread; seen at the next step
    slot: Slot | None = None
    pending: list[int] = field(default_factory=list)
    next_token: int | None = None
    generated: int = 0
    reused: int = 0
    sampler: SamplerChain | None = None
    text: TextOut | None = None


@dataclass(eq=False)
class Slot:
    """One sequence id of the context and the tokens its KV cache holds."""

    seq_id: int
    cached: list[int] = field(default_factory=list)
    used_at: int = 0
    busy: bool = False


def common_prefix(a: list[int], b: list[int]) -> int:
    """Return how many leading tokens two lists share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class Batcher:
    """Runs the decode loop of one model on its own thread."""

    def __init__(self, model: NativeModel) -> None:
        self.model = model
        self._n_vocab = lc.llama_vocab_n_tokens(model.vocab)
        self._slots = [Slot(i) for i in range(model.parallel)]
        self._inbox: queue.SimpleQueue[Sequence | None] = queue.SimpleQueue()
        self._waiting: list[Sequence] = []
        self._active: list[Sequence] = []
        self._clock = 0
        self._outbox: list[tuple[Sequence, object]] = []  # this step's items, not yet handed over
        self._copied: set[int] = set()  # slots given a copy since the last decode
        self._batch = lc.llama_batch_init(BATCH_TOKENS, 0, 1)
        self._thread = threading.Thread(target=self._run, name="llama-batch", daemon=True)
        self._thread.start()

    def submit(self, seq: Sequence) -> None:
        """Add an answer; it joins the batch at the next step."""
        self._inbox.put(seq)

    def close(self) -> None:
        """End the loop (failing any answer still running) and free the batch."""
        self._inbox.put(None)
        self._thread.join()
        lc.llama_batch_free(self._batch)

    # -- the loop (batch thread only) ------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                if not self._take_in(block=not self._active):
                    break
                self._end_cancelled()
                if self._active:
                    self._step()
            except Exception as exc:  # never leave an answer hanging
                log.exception("batched decoding failed")
                for seq in list(self._active):
                    self._finish(seq, InferenceError(str(exc)), forget=True)
            self._hand_over()
        for seq in self._active + self._waiting:
            self._finish(seq, InferenceError("the model was unloaded"), forget=True)
        self._hand_over()

    def _emit(self, seq: Sequence, item: object) -> None:
        self._outbox.append((seq, item))

    def _hand_over(self) -> None:
        """Deliver the step's items: one call per event loop, in the order they were made."""
        items, self._outbox = self._outbox, []
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Sequence, object]]] = {}
        for seq, item in items:
            if seq.loop is None:
                seq.emit(item)
            else:
                by_loop.setdefault(seq.loop, []).append((seq, item))
        for loop, batch in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
                loop.call_soon_threadsafe(_emit_all, batch)

    def _take_in(self, *, block: bool) -> bool:
        """Move new answers into free slots; return False when asked to close."""
        try:
            item = self._inbox.get(block=block and not self._waiting)
            while True:
                if item is None:
                    return False
                self._waiting.append(item)
                item = self._inbox.get_nowait()
        except queue.Empty:
            pass
        while self._waiting:
            free = [s for s in self._slots if not s.busy]
            if not free:
                break
            seq = self._waiting.pop(0)
            try:
                self._start(seq, free)
            except Exception as exc:
                log.exception("could not start an answer")
                self._finish(seq, InferenceError(str(exc)), forget=True)
        return True

    def _start(self, seq: Sequence, free: list[Slot]) -> None:
        """Give an answer the free slot whose cache it can reuse best (else the oldest one),
        or a copy of another slot's cache (busy or not) that holds more of its prompt."""
        shares = {id(s): common_prefix(s.cached, seq.prompt) for s in self._slots}
        best = max(free, key=lambda s: shares[id(s)])
        if shares[id(best)] < REUSE_MIN_SHARE * len(seq.prompt):
            best = min(free, key=lambda s: s.used_at)
        limit = len(seq.prompt) - 1  # the last token is read for logits
        keep = min(shares[id(best)], limit)
        # A slot given a copy since the last decode is no donor: its buffer arrives then.
        donors = [s for s in self._slots if s is not best and s.seq_id not in self._copied]
        donor = max(donors, key=lambda s: shares[id(s)], default=None)
        shared = min(shares[id(donor)], limit) if donor is not None else 0
        if donor is not None and shared - keep >= COPY_MIN_TOKENS:
            keep = shared if self.model.copy(donor.seq_id, best.seq_id, shared) else 0
            best.cached = donor.cached[:keep]
            self._copied.add(best.seq_id)
        else:
            if not self.model.forget(best.seq_id, keep):
                keep = 0
            best.cached = best.cached[:keep]
        best.busy = True
        seq.slot, seq.reused, seq.pending = best, keep, seq.prompt[keep:]
        seq.sampler = SamplerChain(seq.request, self._n_vocab)
        seq.sampler.remember_prompt(seq.prompt)
        seq.text = TextOut(seq.stop)
        self._active.append(seq)

    def _end_cancelled(self) -> None:
        for seq in [s for s in self._active if s.cancelled]:
            self._finish(seq, None)

    def _step(self) -> None:
        """Decode one token per generating answer and a chunk of pending prompts."""
        placed: list[tuple[Sequence, list[int]]] = []
        outputs: list[tuple[Sequence, int]] = []
        n = 0
        for seq in self._active:
            if seq.next_token is not None:
                self._put(n, seq, seq.next_token, len(seq.slot.cached), logits=True)  # type: ignore[union-attr]
                placed.append((seq, [seq.next_token]))
                outputs.append((seq, n))
                n += 1
        budget = min(PREFILL_TOKENS_PER_STEP, BATCH_TOKENS - n)
        for seq in self._active:
            if not seq.pending or budget <= 0:
                continue
            chunk, seq.pending = seq.pending[:budget], seq.pending[budget:]
            start = len(seq.slot.cached)  # type: ignore[union-attr]
            for i, token in enumerate(chunk):
                self._put(n, seq, token, start + i, logits=not seq.pending and i == len(chunk) - 1)
                n += 1
            placed.append((seq, chunk))
            if not seq.pending:
                outputs.append((seq, n - 1))
            budget -= len(chunk)
        self._batch.n_tokens = n
        code = lc.llama_decode(self.model.ctx, self._batch)
        self._copied.clear()
        if code != 0:
            for seq, _ in placed:
                self._finish(seq, InferenceError(f"llama_decode failed with code {code}"), True)
            return
        for seq, tokens in placed:
            seq.slot.cached.extend(tokens)  # type: ignore[union-attr]
        for seq, index in outputs:
            self._advance(seq, seq.sampler.sample(self.model.ctx, index))  # type: ignore[union-attr]

    def _put(self, i: int, seq: Sequence, token: int, pos: int, *, logits: bool) -> None:
        batch = self._batch
        batch.token[i] = token
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq.slot.seq_id  # type: ignore[union-attr]
        batch.logits[i] = logits

    def _advance(self, seq: Sequence, token: int) -> None:
        """Stream a sampled token, or end the answer on end-of-turn, length or a stop string."""
        assert seq.text is not None and seq.slot is not None
        if self.model.is_end(token):
            self._finish(seq, None)
            return
        seq.generated += 1
        text = seq.text.feed(self.model.piece(token))
        self._emit(seq, text)
        full = len(seq.slot.cached) + 1 >= self.model.n_ctx_seq
        if seq.text.stopped or seq.generated >= seq.request.max_tokens or full:
            self._finish(seq, None)
        else:
            seq.next_token = token

    def _finish(self, seq: Sequence, error: InferenceError | None, forget: bool = False) -> None:
        """End an answer and free its slot (keeping its cache unless it may be broken)."""
        if seq in self._active:
            self._active.remove(seq)
        if seq in self._waiting:
            self._waiting.remove(seq)
        tail = seq.text.flush() if seq.text is not None and error is None else ""
        if seq.sampler is not None:
            seq.sampler.close()
        slot = seq.slot
        if slot is not None:
            if forget:
                self.model.forget(slot.seq_id, 0)
                slot.cached = []
            self._clock += 1
            slot.busy, slot.used_at = False, self._clock
        self._emit(seq, Ended(error, tail, seq.reused, len(seq.prompt)))


def _emit_all(items: list[tuple[Sequence, object]]) -> None:
    for seq, item in items:
        seq.emit(item)
