"""QR codes of addresses (paste and short-link pages) as SVG.

segno is imported on the first QR code rather than with the pages: few requests draw one,
and every server would otherwise hold the library from start-up.
"""

from __future__ import annotations

import io
from typing import Any


def qr_svg(url: str, *, scale: int, border: int, **svg_options: Any) -> bytes:
    """Return an SVG QR code of a URL (error correction M; options go to segno's SVG writer)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=scale, border=border, **svg_options)
    return buffer.getvalue()
