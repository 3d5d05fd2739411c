"""What a file really is (from its first bytes) and how to name it safely in a header."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import filetype

SNIFF_BYTES = 8192  # filetype needs at most 8 KiB; enough to tell text from binary too
MAX_NAME_CHARS = 200
OCTET_STREAM = "application/octet-stream"
# Types a browser would run or render as a document of our origin: never shown inline.
DANGEROUS_TYPES = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/x-shockwave-flash",
    }
)
DANGEROUS_SUFFIXES = frozenset(
    {".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml", ".js", ".mjs", ".xsl", ".swf"}
)
INLINE_PREFIXES = ("image/", "audio/", "video/", "text/plain", "application/pdf")
_MARKUP = [
    (re.compile(rb"<svg[\s>]", re.IGNORECASE), "image/svg+xml"),
    (
        re.compile(
            rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>]|<iframe[\s>]",
            re.IGNORECASE,
        ),
        "text/html",
    ),
    (re.compile(rb"^\s*<\?xml", re.IGNORECASE), "application/xml"),
]
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]')
# Bidirectional controls (U+202E makes "exe.txt" read "txt.exe"), C1 controls, BOM: dropped.
_INVISIBLE_NAME_CHARS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\x80-\x9f\ufeff]")


def sniff(head: bytes) -> str:
    """Return the MIME type of content starting with `head`, judged by its bytes alone."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    for pattern, mime in _MARKUP:
        if pattern.search(head[:SNIFF_BYTES]):
            return mime
    if _is_text(head):
        return "text/plain"
    return OCTET_STREAM


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def is_dangerous(content_type: str, name: str) -> bool:
    """Return whether a browser could run this file; the name can only make it stricter."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return content_type in DANGEROUS_TYPES or suffix in DANGEROUS_SUFFIXES


def shows_inline(content_type: str, name: str) -> bool:
    """Return whether the browser may display the file rather than save it."""
    return content_type.startswith(INLINE_PREFIXES) and not is_dangerous(content_type, name)


def clean_name(name: str) -> str:
    """Return a display name without folders, control characters or header-breaking quotes."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("_", _INVISIBLE_NAME_CHARS.sub("", name)).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, suffix = name.rpartition(".")
        keep = suffix[:20] if dot else ""
        name = (stem if dot else name)[: MAX_NAME_CHARS - len(keep) - 1] + (
            "." + keep if keep else ""
        )
    return name or "file"


def content_disposition(name: str, *, inline: bool) -> str:
    """Return a Content-Disposition value: an ASCII fallback plus RFC 5987 filename*."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()\[\]+-]", "_", ascii_name).strip() or "file"
    disposition = "inline" if inline else "attachment"
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
