"""Small inline SVG line charts (no JavaScript, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 480, 120, 4


def line_chart(values: Sequence[float | None], *, label: str, unit: str = "") -> Markup:
    """Draw values left to right (gaps for None), scaled to the largest value."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0) or 1.0
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)
    lines: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            lines.append([])
            continue
        x = PAD + i * step
        y = HEIGHT - PAD - (value / top) * (HEIGHT - 2 * PAD)
        lines[-1].append(f"{x:.1f},{y:.1f}")
    drawn = "".join(
        f'<polyline points="{" ".join(points)}" />' if len(points) > 1 else _dot(points)
        for points in lines
        if points
    )
    peak = f"max {max(known):.1f}{unit}" if known else "no data yet"
    return Markup(
        f'<figure class="chart"><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="none">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" class="chart-bg" />{drawn}</svg>'
        f"<figcaption>{escape(label)} · {escape(peak)}</figcaption></figure>"
    )


def _dot(points: list[str]) -> str:
    x, y = points[0].split(",")
    return f'<circle cx="{x}" cy="{y}" r="2" />'
