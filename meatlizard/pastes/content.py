"""What a paste's text is: its language, its download name, and well-formed ciphertext."""

from __future__ import annotations

import base64
import binascii
import functools
import re

from pygments.lexers import get_lexer_by_name, guess_lexer
from pygments.util import ClassNotFound

from meatlizard.core.errors import InvalidInput

GCM_IV_BYTES = 12  # 96-bit IV, as WebCrypto's AES-GCM recommends
GCM_TAG_BYTES = 16  # 128-bit authentication tag appended by WebCrypto
MIN_CIPHERTEXT_BYTES = GCM_IV_BYTES + GCM_TAG_BYTES + 1  # at least one byte of text
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
EXTENSIONS = {"text": "txt", "markdown": "md", "bash": "sh"}


def known_language(requested: str) -> str:
    """Return the canonical Pygments alias of a requested language, or refuse it."""
    try:
        return str(get_lexer_by_name(requested).aliases[0])
    except ClassNotFound:
        raise InvalidInput(f"unknown language {requested!r}") from None


def detect_language(content: str, requested: str | None) -> str:
    """Return a Pygments lexer alias: the requested one if known, else a guess (CPU-bound)."""
    if requested:
        return known_language(requested)
    try:
        aliases = guess_lexer(content).aliases
    except ClassNotFound:
        return "text"
    return str(aliases[0]) if aliases else "text"


def check_ciphertext(content: str) -> None:
    """Refuse content that cannot be base64(IV + AES-GCM ciphertext + tag)."""
    try:
        raw = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("encrypted content must be standard base64") from None
    if len(raw) < MIN_CIPHERTEXT_BYTES:
        raise InvalidInput(
            f"encrypted content is {len(raw)} bytes; IV, tag and text need at least "
            f"{MIN_CIPHERTEXT_BYTES}"
        )


@functools.cache  # one lexer lookup per language, not one per download or page view
def extension(language: str) -> str:
    """Return the usual file extension for a language (without the dot)."""
    if language in EXTENSIONS:
        return EXTENSIONS[language]
    try:
        patterns = get_lexer_by_name(language).filenames
    except ClassNotFound:
        return "txt"
    for pattern in patterns:
        if pattern.startswith("*.") and _UNSAFE_NAME.search(pattern[2:]) is None:
            return str(pattern[2:])
    return "txt"


def download_name(paste_id: str, title: str, language: str, encrypted: bool) -> str:
    """Return a safe file name for a paste: its title (or id) with the language's extension."""
    stem = _UNSAFE_NAME.sub("-", title).strip("-.")[:80] or paste_id
    if encrypted:
        return f"{stem}.encrypted.txt"
    return f"{stem}.{extension(language)}"
