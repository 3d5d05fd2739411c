"""Regular expressions from people (operators, admins) run on a linear-time engine (RE2).

Python's `re` backtracks: one pattern such as `(a+)+$` can hold the event loop for minutes
on a long prompt. RE2 answers in time proportional to the text, whatever the pattern, and
refuses what it cannot do that way (backreferences, look-arounds). Matching ignores case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import re2

# Memory one compiled expression may use; past it RE2 refuses to compile ("pattern too large").
MAX_PATTERN_MEMORY = 32 << 20
# What `\w` means in Python; RE2's `\b` knows only ASCII letters, so words bound themselves.
_WORD_CHARS = r"\pL\pN_"


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is reported to the caller, not to stderr
    options.max_mem = MAX_PATTERN_MEMORY
    return options


class PatternError(ValueError):
    """A pattern that the engine cannot run; the message says which and why."""


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)


def compile_pattern(pattern: str) -> Any:
    """Return the compiled pattern, or raise PatternError saying why it cannot run."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        raise PatternError(
            f"pattern {pattern!r} is not a valid regular expression: {_reason(exc)}"
        ) from None


def word_pattern(word: str) -> str:
    """Return a pattern matching `word` as a whole word (its letters not inside a longer word)."""
    escaped = re2.escape(word)
    before = f"(?:^|[^{_WORD_CHARS}])" if _is_word_char(word[0]) else ""
    after = f"(?:$|[^{_WORD_CHARS}])" if _is_word_char(word[-1]) else ""
    return f"{before}{escaped}{after}"


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class PatternSet:
    """Words and patterns that a text must not contain; `search` is linear in the text."""

    def __init__(self, words: Iterable[str], patterns: Iterable[str]) -> None:
        parts = [word_pattern(w.strip()) for w in words if w.strip()]
        parts += [p for p in patterns if p]
        for part in parts:
            compile_pattern(part)  # name the culprit rather than the combined expression
        self._compiled: list[Any] = []
        if parts:
            try:
                self._compiled = [compile_pattern("|".join(f"(?:{p})" for p in parts))]
            except PatternError:  # together too large for one program: run them one by one
                self._compiled = [compile_pattern(p) for p in parts]

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def search(self, text: str) -> bool:
        """Return whether any word or pattern occurs in the text."""
        return any(compiled.search(text) is not None for compiled in self._compiled)
