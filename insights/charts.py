"""Server-drawn SVG charts (no JavaScript, nothing from a CDN).

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says what
it shows in words, and the page puts the same figures in a table beside it, which
is the text alternative a screen reader or a printout uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Datum:
    label: str
    value: int


def _n(value: float) -> str:
    return f"{value:.1f}"


def _fmt(value: int) -> str:
    return f"{value:,}"


def column_chart(chart_id: str, title: str, data: Sequence[Datum], *, unit: str) -> SafeString:
    """Vertical bars, one per datum (weeks), labelled below; every k-th label when crowded."""
    width, height, left, bottom, top = 480, 220, 48, 36, 14
    plot_w, plot_h = width - left - 8, height - bottom - top
    high = max((d.value for d in data), default=0)
    scale = plot_h / high if high else 0
    step = plot_w / max(len(data), 1)
    bar_w = max(step * 0.7, 1)
    every = max(1, round(len(data) / 5))
    parts = [
        format_html(
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>', left, top + plot_h, width - 8, top + plot_h
        ),
        format_html('<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>', left - 6, top + 4, _fmt(high)),
        format_html('<text class="tick" x="{}" y="{}" text-anchor="end">0</text>', left - 6, top + plot_h),
    ]
    for i, d in enumerate(data):
        h = d.value * scale
        x = left + i * step + (step - bar_w) / 2
        parts.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>',
                _n(x),
                _n(top + plot_h - h),
                _n(bar_w),
                _n(h),
                d.label,
                _fmt(d.value),
                unit,
            )
        )
        if i % every == 0:
            parts.append(
                format_html(
                    '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(x + bar_w / 2),
                    top + plot_h + 16,
                    d.label,
                )
            )
    desc = _describe(data, unit)
    return _svg(chart_id, title, desc, width, height, parts)


def bar_chart(chart_id: str, title: str, data: Sequence[Datum], *, unit: str, limit: int = 10) -> SafeString:
    """Horizontal bars, one per category (teams, values, rewards), the first `limit` of them."""
    shown = list(data)[:limit]
    row_h, label_w, width = 30, 160, 480
    height = max(row_h * len(shown) + 8, 40)
    plot_w = width - label_w - 60
    high = max((d.value for d in shown), default=0)
    parts = []
    for i, d in enumerate(shown):
        y = 4 + i * row_h
        w = d.value / high * plot_w if high else 0
        label = d.label if len(d.label) <= 18 else d.label[:17] + "…"
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>'
                '<text class="value" x="{}" y="{}">{}</text>',
                label_w - 8,
                y + 19,
                label,
                label_w,
                y + 3,
                _n(w),
                row_h - 8,
                d.label,
                _fmt(d.value),
                unit,
                _n(label_w + w + 6),
                y + 19,
                _fmt(d.value),
            )
        )
    desc = _describe(shown, unit)
    return _svg(chart_id, title, desc, width, height, parts)


def _describe(data: Sequence[Datum], unit: str) -> str:
    if not data:
        return "No data in this period."
    total = sum(d.value for d in data)
    top = max(data, key=lambda d: d.value)
    return f"{len(data)} bars, {_fmt(total)} {unit} in all; the highest is {top.label} with {_fmt(top.value)}."


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, parts: list[str]) -> SafeString:
    body = mark_safe("".join(parts))  # noqa: S308 - every part was built by format_html, which escapes
    return format_html(
        '<svg class="insights-chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'preserveAspectRatio="xMinYMin meet"><title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{body}</svg>",
        w=width,
        h=height,
        id=escape(chart_id),
        title=title,
        desc=desc,
        body=body,
    )
