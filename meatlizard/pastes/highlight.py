"""Highlighted paste text, one linkable line (`#L12`) per source line."""

from __future__ import annotations

import hashlib

from markupsafe import Markup, escape
from pygments import __version__ as PYGMENTS_VERSION
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from meatlizard.pastes.content import detect_language

# The number comes from CSS (`data-line`), so selecting and copying the text leaves it out.
LINE = (
    '<span class="line" id="L{n}"><a class="ln" href="#L{n}" data-line="{n}" '
    'aria-label="Line {n}"></a><span class="lc">{code}</span>\n</span>'
)

# Bump when LINE or the markup around it changes: stored renderings then count as stale.
LAYOUT_VERSION = "1"


def content_version(content: str, language: str) -> str:
    """Return a digest naming this text, its language and the renderer that draws it."""
    digest = hashlib.sha256(f"{LAYOUT_VERSION}:{PYGMENTS_VERSION}:{language}:".encode())
    digest.update(content.encode())
    return digest.hexdigest()


def split_lines(content: str) -> list[str]:
    """Return the lines of a text as the view numbers them (a final newline ends, not adds)."""
    lines = content.replace("\r\n", "\n").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def _token_lines(content: str, language: str) -> list[str]:
    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=True)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", stripnl=False, ensurenl=True)
    # With nowrap the formatter closes and reopens token spans at every newline.
    html = highlight(content.replace("\r\n", "\n"), lexer, HtmlFormatter(nowrap=True))
    lines = html.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def render_lines(content: str, language: str) -> Markup:
    """Highlight a paste into numbered, linkable lines (CPU-bound: call it off the loop)."""
    lines = _token_lines(content, language)
    if len(lines) != len(split_lines(content)):  # a lexer that ate a newline: stay exact
        lines = [str(escape(line)) for line in split_lines(content)]
    body = "".join(LINE.format(n=n, code=code) for n, code in enumerate(lines, start=1))
    return Markup(f'<pre class="hl" id="paste-code"><code>{body}</code></pre>')


def analyse(content: str, requested: str | None) -> tuple[str, str]:
    """Return the language and highlighted lines of a plain-text paste (CPU-bound)."""
    language = detect_language(content, requested)
    return language, str(render_lines(content, language))
