"""A GGUF model and one multi-sequence context, through llama-cpp-python's low-level API.

The context keeps a separate KV cache per sequence (not one unified cache): measured faster
for chats that share no prefix, and a sequence's answer does not depend on its neighbours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import llama_cpp as lc

from meatlizard.inference.engine import InferenceError
from meatlizard.inference.vocab import Vocabulary, load_model

# How many tokens one llama_decode call may carry (prompt chunks plus one per sequence).
BATCH_TOKENS = 512


class NativeModel(Vocabulary):
    """Owns the model weights, a context for `parallel` sequences, and the chat template."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx_seq: int,
        parallel: int,
        n_threads: int,
        n_gpu_layers: int = 0,
    ) -> None:
        """Load the weights and create the context; raise ValueError when either fails."""
        model = load_model(path, n_gpu_layers=n_gpu_layers)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx_seq * parallel
        cparams.n_batch = BATCH_TOKENS
        cparams.n_ubatch = BATCH_TOKENS
        cparams.n_seq_max = parallel
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        cparams.kv_unified = False
        cparams.no_perf = True
        self.ctx = lc.llama_init_from_model(model, cparams)
        if not self.ctx:
            lc.llama_model_free(model)
            raise ValueError("llama.cpp could not create a context for the model")
        super().__init__(model)
        self.parallel = parallel
        self.n_ctx_seq = int(lc.llama_n_ctx_seq(self.ctx))
        self.memory = lc.llama_get_memory(self.ctx)

    def forget(self, seq_id: int, keep: int) -> bool:
        """Drop a sequence's cache from position `keep` on; False if only all of it can go."""
        if lc.llama_memory_seq_rm(self.memory, seq_id, keep, -1):
            return True
        lc.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        return False

    def copy(self, source: int, target: int, keep: int) -> bool:
        """Give `target` the first `keep` positions of `source`'s cache; False if it cannot.

        llama.cpp copies a sequence's whole buffer between two sequences' caches (a few ms at
        the next decode, against about 3 ms a token to read a prompt again on two cores)."""
        lc.llama_memory_seq_cp(self.memory, source, target, -1, -1)
        if lc.llama_memory_seq_rm(self.memory, target, keep, -1):
            return True
        lc.llama_memory_seq_rm(self.memory, target, -1, -1)
        return False

    def close(self) -> None:
        """Free the context and the weights."""
        if self.ctx:
            lc.llama_free(self.ctx)
            self.ctx = None
        super().close()


def open_model(path: Path, **options: Any) -> NativeModel:
    """Load a model, turning llama.cpp's failures into an InferenceError that names the file."""
    try:
        return NativeModel(path, **options)
    except (ValueError, RuntimeError, OSError) as exc:
        raise InferenceError(str(exc)) from exc
