"""A GGUF model and one multi-sequence context, through llama-cpp-python's low-level API.

The context keeps a separate KV cache per sequence (not one unified cache): measured faster
for chats that share no prefix, and a sequence's answer does not depend on its neighbours.
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp as lc
from llama_cpp import llama_chat_format

from meatlizard.inference.engine import InferenceError, Turn

# How many tokens one llama_decode call may carry (prompt chunks plus one per sequence).
BATCH_TOKENS = 512
# Chat formats llama-cpp-python recognises by their template text, as Llama() does.
_NAMED_FORMATS: dict[str, Any] = {
    "chatml": llama_chat_format.format_chatml,
    "mistral-instruct": llama_chat_format.format_mistral_instruct,
    "llama-3": llama_chat_format.format_llama3,
}
_backend_ready = False


@dataclass(frozen=True)
class FormattedPrompt:
    """A conversation rendered by the model's chat template."""

    tokens: list[int]
    stop: tuple[str, ...]


def _init_backend() -> None:
    global _backend_ready
    if not _backend_ready:
        # llama.cpp logs every load step to stderr; keep its errors only, as Llama(verbose=False).
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        lc.llama_backend_init()
        _backend_ready = True


class NativeModel:
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
        _init_backend()
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = n_gpu_layers
        self.model = lc.llama_model_load_from_file(str(path).encode(), mparams)
        if not self.model:
            raise ValueError("llama.cpp could not load the model file")
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = n_ctx_seq * parallel
        cparams.n_batch = BATCH_TOKENS
        cparams.n_ubatch = BATCH_TOKENS
        cparams.n_seq_max = parallel
        cparams.n_threads = n_threads
        cparams.n_threads_batch = n_threads
        cparams.kv_unified = False
        cparams.no_perf = True
        self.ctx = lc.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            lc.llama_model_free(self.model)
            raise ValueError("llama.cpp could not create a context for the model")
        self.parallel = parallel
        self.n_ctx_seq = int(lc.llama_n_ctx_seq(self.ctx))
        self.vocab = lc.llama_model_get_vocab(self.model)
        self.memory = lc.llama_get_memory(self.ctx)
        self._formatter = self._chat_formatter()
        self._piece = ctypes.create_string_buffer(64)

    def _chat_formatter(self) -> Any:
        """Pick the chat format as llama-cpp-python's Llama() does for this file."""
        raw = lc.llama_model_chat_template(self.model, None)
        if not raw:
            return llama_chat_format.format_llama2
        template = raw.decode("utf-8", errors="replace")
        named = llama_chat_format.guess_chat_format_from_gguf_metadata(
            {"tokenizer.chat_template": template}
        )
        if named in _NAMED_FORMATS:
            return _NAMED_FORMATS[named]
        eos, bos = lc.llama_vocab_eos(self.vocab), lc.llama_vocab_bos(self.vocab)
        return llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=self.token_text(eos) if eos != -1 else "",
            bos_token=self.token_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def token_text(self, token: int) -> str:
        """Return a token's text as stored in the vocabulary."""
        return bytes(lc.llama_vocab_get_text(self.vocab, token)).decode("utf-8", errors="replace")

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        """Return the tokens of `text`, special tokens parsed."""
        data = text.encode()
        size = len(data) + 8
        while True:
            tokens = (lc.llama_token * size)()
            n = lc.llama_tokenize(self.vocab, data, len(data), tokens, size, add_bos, True)
            if n >= 0:
                return list(tokens[:n])
            size = -n

    def piece(self, token: int) -> bytes:
        """Return the bytes of one generated token (special tokens render as nothing)."""
        n = lc.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        if n < 0:
            self._piece = ctypes.create_string_buffer(-n)
            n = lc.llama_token_to_piece(self.vocab, token, self._piece, len(self._piece), 0, False)
        return self._piece.raw[:n]

    def is_end(self, token: int) -> bool:
        return bool(lc.llama_vocab_is_eog(self.vocab, token))

    def format(self, messages: list[Turn]) -> FormattedPrompt:
        """Render a conversation with the model's chat template and tokenize it."""
        result = self._formatter(
            messages=[{"role": t.role, "content": t.content} for t in messages]
        )
        stop = (
            result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        )
        tokens = self.tokenize(result.prompt, add_bos=not result.added_special)
        return FormattedPrompt(tokens, tuple(stop))

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
        if self.model:
            lc.llama_model_free(self.model)
            self.model = None


def open_model(path: Path, **options: Any) -> NativeModel:
    """Load a model, turning llama.cpp's failures into an InferenceError that names the file."""
    try:
        return NativeModel(path, **options)
    except (ValueError, RuntimeError, OSError) as exc:
        raise InferenceError(str(exc)) from exc
