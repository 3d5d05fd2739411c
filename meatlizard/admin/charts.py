"""Small inline SVG line charts with a scale and values (no JavaScript, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 480, 120, 4
GRID_LINES = 4  # horizontal lines at quarters of the scale


def line_chart(
    values: Sequence[float | None],
    *,
    label: str,
    unit: str = "",
    x_labels: tuple[str, str] = ("", ""),
) -> Markup:
    """Draw values left to right (gaps for None) on a 0..max scale, labelled with values.

    The scale, the time span and the latest value are HTML text beside the drawing (an SVG
    stretched to the card's width would distort its own text), and the SVG's accessible name
    says the same in words.
    """
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
    latest = next((p for points in reversed(lines) for p in reversed(points)), None)
    marker = _dot([latest], "chart-latest") if latest else ""
    grid = "".join(
        f'<line x1="0" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid" />'
        for y in (PAD + i * (HEIGHT - 2 * PAD) / GRID_LINES for i in range(GRID_LINES + 1))
    )
    summary = _summary(known, unit)
    name = f"{label}: {summary}" + (
        f", from {x_labels[0]} to {x_labels[1]}" if any(x_labels) else ""
    )
    return Markup(
        f'<figure class="chart"><div class="chart-plot">'
        f'<div class="chart-y" aria-hidden="true"><span>{escape(_value(top if known else 0, unit))}'
        f"</span><span>{escape(_value(0, unit))}</span></div>"
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(name)}" '
        f'preserveAspectRatio="none"><title>{escape(name)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" class="chart-bg" />'
        f"{grid}{drawn}{marker}</svg></div>"
        f'<div class="chart-x" aria-hidden="true"><span>{escape(x_labels[0])}</span>'
        f"<span>{escape(x_labels[1])}</span></div>"
        f"<figcaption>{escape(label)} · {escape(summary)}</figcaption></figure>"
    )


def _summary(known: list[float], unit: str) -> str:
    if not known:
        return "no data yet"
    return (
        f"latest {_value(known[-1], unit)}, min {_value(min(known), unit)}, "
        f"max {_value(max(known), unit)}"
    )


def _value(value: float, unit: str) -> str:
    """Format a value with its unit: whole numbers without decimals, others with one."""
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return text + unit


def _dot(points: list[str], css_class: str = "") -> str:
    x, y = points[0].split(",")
    cls = f' class="{css_class}"' if css_class else ""
    return f'<circle cx="{x}" cy="{y}" r="{3 if css_class else 2}"{cls} />'
