"""A model's vocabulary and chat template: turning conversations into tokens and back.

Loaded on its own (`Vocabulary.open`, the weights are not read) where another process runs
the model, or as part of a loaded model (`NativeModel`).
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp as lc
from llama_cpp import llama_chat_format

from meatlizard.inference.engine import Turn

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


def init_backend() -> None:
    """Start llama.cpp once per process, keeping only its errors in the log."""
    global _backend_ready
    if not _backend_ready:
        # llama.cpp logs every load step to stderr; keep its errors only, as Llama(verbose=False).
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        lc.llama_backend_init()
        _backend_ready = True


def load_model(path: Path, *, n_gpu_layers: int = 0, vocab_only: bool = False) -> Any:
    """Return llama.cpp's model pointer for a GGUF file; ValueError when it cannot load."""
    init_backend()
    params = lc.llama_model_default_params()
    params.n_gpu_layers = n_gpu_layers
    params.vocab_only = vocab_only
    model = lc.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ValueError("llama.cpp could not load the model file")
    return model


class Vocabulary:
    """Tokenizes, renders the chat template and turns generated tokens into bytes."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.vocab = lc.llama_model_get_vocab(model)
        self._formatter = self._chat_formatter()
        self._piece = ctypes.create_string_buffer(64)

    @classmethod
    def open(cls, path: Path) -> Vocabulary:
        """Read only a GGUF file's vocabulary and template; ValueError when it cannot."""
        return cls(load_model(path, vocab_only=True))

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

    def close(self) -> None:
        """Free the model (its vocabulary, and its weights where they were loaded)."""
        if self.model:
            lc.llama_model_free(self.model)
            self.model = None
