"""Small server-side SVG charts (bars by day, ranked horizontal bars): no JavaScript, no CDN, phone-friendly.

Labels go through markupsafe.escape, since they can be farmers' words.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

from markupsafe import Markup, escape

BAR_COLOUR = "#2f6b3a"
ACCENT_COLOUR = "#c8702a"
TEXT_COLOUR = "#333"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def column_chart(points: Sequence[Tuple[str, float]], title: str, label_every: int = 5) -> Markup:
    """Vertical bars, one per point (e.g. messages per day), scaled to the largest; an accessible SVG."""
    width, height, left, bottom, top = 640, 220, 36, 40, 14
    plot_height = height - bottom - top
    count = max(len(points), 1)
    slot = (width - left - 8) / count
    peak = max((value for _, value in points), default=0) or 1
    parts: List[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="11" text-anchor="end" fill="{TEXT_COLOUR}">'
        f"{_number(peak)}</text>",
        f'<text x="{left - 4}" y="{height - bottom}" font-size="11" text-anchor="end" fill="{TEXT_COLOUR}">0</text>',
    ]
    for index, (label, value) in enumerate(points):
        bar_height = plot_height * value / peak
        x = left + index * slot + slot * 0.15
        y = height - bottom - bar_height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_height:.1f}" fill="{BAR_COLOUR}">'
            f"<title>{escape(label)}：{_number(value)}</title></rect>"
        )
        if index % label_every == 0 or index == len(points) - 1:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 14}" font-size="10" text-anchor="middle" '
                f'fill="{TEXT_COLOUR}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above went through escape()


def bar_chart(items: Sequence[Tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Horizontal ranked bars with their labels and values (top intents, most asked products)."""
    row, label_width, width = 26, 150, 640
    height = max(len(items), 1) * row + 8
    peak = max((value for _, value in items), default=0) or 1
    parts: List[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if not items:
        parts.append(f'<text x="8" y="20" font-size="13" fill="{TEXT_COLOUR}">暂无数据</text>')
    for index, (label, value) in enumerate(items):
        y = 4 + index * row
        bar_width = (width - label_width - 70) * value / peak
        shown = label if len(label) <= 12 else label[:11] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" font-size="13" text-anchor="end" fill="{TEXT_COLOUR}">'
            f"{escape(shown)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{max(bar_width, 1):.1f}" height="{row - 8}" '
            f'fill="{BAR_COLOUR if index else ACCENT_COLOUR}">'
            f"<title>{escape(label)}：{_number(value)}{escape(unit)}</title></rect>"
            f'<text x="{label_width + bar_width + 6:.1f}" y="{y + 16}" font-size="12" fill="{TEXT_COLOUR}">'
            f"{_number(value)}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above went through escape()


def rate_bar(share: float, title: str) -> Markup:
    """A single 0–100 % bar, for the fallback and handoff rates."""
    share = min(max(share, 0.0), 1.0)
    return Markup(  # noqa: S704 - the title is escaped, the rest are numbers
        f'<svg class="rate" viewBox="0 0 200 14" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<rect width="200" height="14" rx="3" fill="#e3e6de"/>'
        f'<rect width="{200 * share:.1f}" height="14" rx="3" fill="{ACCENT_COLOUR}"/></svg>'
    )
