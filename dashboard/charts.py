"""Server-rendered SVG charts: plain strings, no JavaScript, nothing fetched by the browser.

Every mark carries the figures it draws as data-* attributes (the values exactly as read from the marts) and a
<title> tooltip, so a reader can hover and a test can compare the drawing with the serving file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def attr(value) -> str:
    """A figure as an attribute value: repr for floats (round-trips exactly), '' for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return escape(str(value), quote=True)


def percent(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _data(data: dict) -> str:
    return "".join(f' data-{k.replace("_", "-")}="{attr(v)}"' for k, v in data.items())


@dataclass
class Bar:
    """One bar: its value (drawn height), optional interval, label under it and the figures it shows.

    A bar without a value may say why in `status` (lines written upright in its place); `foot` lines are
    written under its label (counts that hold with or without a value); `tip` is its tooltip (default `text`).
    """

    label: str
    value: float | None
    lower: float | None = None
    upper: float | None = None
    text: str = ""
    color: str = PALETTE[0]
    data: dict = field(default_factory=dict)
    status: tuple[str, ...] = ()
    foot: tuple[str, ...] = ()
    tip: str = ""


def bar_chart(
    groups: Sequence[tuple[str, Sequence[Bar]]],
    *,
    y_label: str,
    css_class: str,
    y_max: float | None = None,
    as_percent: bool = True,
    width: int = 760,
    height: int = 340,
) -> str:
    """Vertical bars in groups (one group per x label), each with an optional error bar [lower, upper].

    The plot area keeps its size whatever the number of foot lines: the drawing grows downwards for them.
    """
    line_h = 14
    n_foot = max((len(b.foot) for _, bars in groups for b in bars), default=0)
    multi = any(len(bars) > 1 for _, bars in groups)
    height += line_h * n_foot
    left, right, top, bottom = 64, 16, 20, 56 + line_h * n_foot
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, bars in groups for b in bars for v in (b.value, b.upper) if v is not None]
    top_value = y_max if y_max is not None else _nice_ceiling(max(values, default=0) or 1)
    n_groups = max(len(groups), 1)
    group_w = plot_w / n_groups
    base = top + plot_h
    foot_y0 = base + (14 + line_h if multi else 18 + line_h)
    group_y = base + (14 + line_h * (n_foot + 1) + 6 if multi else 18)

    def y(value: float) -> float:
        return top + plot_h - plot_h * min(value, top_value) / top_value

    parts = [_svg_open(width, height, css_class)]
    parts.append(_y_axis(left, top, plot_w, plot_h, top_value, y_label, as_percent))
    for g, (group_label, bars) in enumerate(groups):
        x0 = left + g * group_w
        bar_w = group_w * 0.7 / max(len(bars), 1)
        for b, bar in enumerate(bars):
            x = x0 + group_w * 0.15 + b * bar_w
            cx = x + bar_w / 2
            tip = escape(f"{group_label} {bar.label}: {bar.tip or bar.text}".strip())
            parts.append(f'<g class="bar"{_data({"label": bar.label, "group": group_label, **bar.data})}>')
            parts.append(f"<title>{tip}</title>")
            if bar.value is not None:
                parts.append(
                    f'<rect x="{x + 2:.1f}" y="{y(bar.value):.1f}" width="{max(bar_w - 4, 1):.1f}" '
                    f'height="{top + plot_h - y(bar.value):.1f}" fill="{bar.color}"/>'
                )
            if bar.lower is not None and bar.upper is not None:
                parts.append(
                    f'<g class="error-bar" stroke="#222" stroke-width="1.5">'
                    f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(bar.lower):.1f}" y2="{y(bar.upper):.1f}"/>'
                    f'<line x1="{cx - 6:.1f}" x2="{cx + 6:.1f}" y1="{y(bar.upper):.1f}" '
                    f'y2="{y(bar.upper):.1f}"/>'
                    f'<line x1="{cx - 6:.1f}" x2="{cx + 6:.1f}" y1="{y(bar.lower):.1f}" '
                    f'y2="{y(bar.lower):.1f}"/>'
                    "</g>"
                )
            if bar.value is None and bar.status:
                # upright lines reading bottom to top, centred on the bar's column
                first_dy = -0.6 * (len(bar.status) - 1)
                spans = "".join(
                    f'<tspan x="0" dy="{first_dy if i == 0 else 1.2:.2f}em">{escape(line)}</tspan>'
                    for i, line in enumerate(bar.status)
                )
                parts.append(
                    f'<text class="status" font-size="11" fill="#555" '
                    f'transform="translate({cx + 4:.1f},{base - 6:.1f}) rotate(-90)">{spans}</text>'
                )
            if bar.text:
                label_y = y(bar.upper if bar.upper is not None else (bar.value or 0)) - 6
                parts.append(
                    f'<text class="value" x="{cx:.1f}" y="{max(label_y, top + 10):.1f}" '
                    f'text-anchor="middle">{escape(bar.text)}</text>'
                )
            if multi:
                parts.append(
                    f'<text class="series" x="{cx:.1f}" y="{base + 14}" '
                    f'text-anchor="middle">{escape(bar.label)}</text>'
                )
            for i, line in enumerate(bar.foot):
                parts.append(
                    f'<text class="foot" font-size="11" x="{cx:.1f}" y="{foot_y0 + line_h * i}" '
                    f'text-anchor="middle">{escape(line)}</text>'
                )
            parts.append("</g>")
        parts.append(
            f'<text class="group" x="{x0 + group_w / 2:.1f}" y="{group_y}" '
            f'text-anchor="middle">{escape(group_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    rows: Sequence[Bar], *, x_label: str, css_class: str, as_percent: bool, width: int = 520
) -> str:
    """Horizontal bars, one per row, with the value written after each bar."""
    left, right, top, row_h = 150, 90, 10, 24
    height = top + row_h * max(len(rows), 1) + 30
    plot_w = width - left - right
    top_value = _nice_ceiling(max((r.value or 0 for r in rows), default=0) or 1)
    parts = [_svg_open(width, height, css_class)]
    for i, row in enumerate(rows):
        y0 = top + i * row_h
        w = plot_w * (row.value or 0) / top_value
        parts.append(f'<g class="bar"{_data({"label": row.label, **row.data})}>')
        parts.append(f"<title>{escape(row.label)}: {escape(row.text)}</title>")
        parts.append(
            f'<text class="category" x="{left - 6}" y="{y0 + row_h * 0.65:.1f}" text-anchor="end">'
            f"{escape(row.label)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y0 + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{row.color}"/>'
        )
        parts.append(
            f'<text class="value" x="{left + w + 4:.1f}" y="{y0 + row_h * 0.65:.1f}">'
            f"{escape(row.text)}</text>"
        )
        parts.append("</g>")
    axis_y = top + row_h * max(len(rows), 1)
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#999"/>')
    for tick in _ticks(top_value):
        x = left + plot_w * tick / top_value
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">'
            f"{percent(tick) if as_percent else number(tick)}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{axis_y + 28}" text-anchor="middle">'
        f"{escape(x_label)}</text></svg>"
    )
    return "".join(parts)


@dataclass
class Series:
    label: str
    points: Sequence[tuple[float, float]]
    color: str
    data: dict = field(default_factory=dict)


def line_chart(
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    css_class: str,
    width: int = 760,
    height: int = 360,
) -> str:
    """Lines over a numeric x with y in [0, 1] (shares), one per series, with a legend to the right."""
    left, right, top, bottom = 64, 170, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max((x for s in series for x, _ in s.points), default=1) or 1

    def xy(x: float, y: float) -> str:
        return f"{left + plot_w * x / x_max:.1f},{top + plot_h - plot_h * y:.1f}"

    parts = [_svg_open(width, height, css_class)]
    parts.append(_y_axis(left, top, plot_w, plot_h, 1.0, y_label, True))
    for tick in _ticks(x_max, integer=True):
        x = left + plot_w * tick / x_max
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    for i, s in enumerate(series):
        points = " ".join(xy(x, y) for x, y in s.points)
        encoded = ";".join(f"{attr(x)}:{attr(y)}" for x, y in s.points)
        parts.append(f'<g class="series"{_data({"label": s.label, "points": encoded, **s.data})}>')
        parts.append(f"<title>{escape(s.label)}</title>")
        parts.append(f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="2"/>')
        for x, y in s.points:
            parts.append(
                f'<circle cx="{xy(x, y).split(",")[0]}" cy="{xy(x, y).split(",")[1]}" r="2.5" '
                f'fill="{s.color}"><title>{escape(s.label)}: month {x:g}, {percent(y)}</title></circle>'
            )
        ly = top + 14 * i + 8
        if ly < height - 10:
            parts.append(
                f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 30}" y1="{ly}" y2="{ly}" '
                f'stroke="{s.color}" stroke-width="3"/>'
                f'<text class="legend" x="{left + plot_w + 34}" y="{ly + 4}">{escape(s.label)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: int, css_class: str) -> str:
    return (
        f'<svg class="chart {css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img">'
    )


def _y_axis(left, top, plot_w, plot_h, top_value, label, as_percent) -> str:
    parts = [f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#999"/>']
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#999"/>'
    )
    for tick in _ticks(top_value):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{percent(tick) if as_percent else number(tick)}</text>"
        )
    parts.append(
        f'<text class="axis-label" transform="translate(14,{top + plot_h / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(label)}</text>'
    )
    return "".join(parts)


def _nice_ceiling(value: float) -> float:
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _ticks(top_value: float, integer: bool = False) -> list[float]:
    step = top_value / 5
    if integer:
        step = max(1, math.ceil(step))
    ticks, tick = [], 0.0
    while tick <= top_value + 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    return ticks


def matrix(cells: Sequence[dict], *, rows: Sequence[str], cols: Sequence[str], css_class: str) -> str:
    """A 2-D grid of cells, each a dict with row, col, lines (texts), highlight, shade (0..1) and data."""
    cell_w, cell_h, left, top = 220, 110, 230, 40
    width, height = left + cell_w * len(cols) + 10, top + cell_h * len(rows) + 10
    parts = [_svg_open(width, height, css_class)]
    for c, col in enumerate(cols):
        parts.append(
            f'<text class="col-header" x="{left + cell_w * c + cell_w / 2}" y="{top - 12}" '
            f'text-anchor="middle">{escape(col)}</text>'
        )
    for r, row in enumerate(rows):
        parts.append(
            f'<text class="row-header" x="{left - 8}" y="{top + cell_h * r + cell_h / 2}" '
            f'text-anchor="end">{escape(row)}</text>'
        )
    for cell in cells:
        r, c = rows.index(cell["row"]), cols.index(cell["col"])
        x, y = left + cell_w * c, top + cell_h * r
        shade = min(max(cell.get("shade") or 0, 0), 1)
        fill = f"rgba(214,39,40,{0.08 + 0.6 * shade:.3f})"
        stroke = (
            ' stroke="#111" stroke-width="3"' if cell.get("highlight") else ' stroke="#fff" stroke-width="2"'
        )
        parts.append(f'<g class="cell"{_data(cell["data"])}>')
        parts.append(f"<title>{escape(' · '.join(cell['lines']))}</title>")
        parts.append(f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}"{stroke}/>')
        for i, line in enumerate(cell["lines"]):
            weight = ' font-weight="bold"' if i == 0 else ""
            parts.append(
                f'<text x="{x + cell_w / 2}" y="{y + 28 + 22 * i}" text-anchor="middle"{weight}>'
                f"{escape(line)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def timeline(events: Sequence[dict], *, lanes: Sequence[str], css_class: str, width: int = 900) -> str:
    """Events on a time axis, one lane per silo; each event is a dict of t (epoch seconds), lane, poor, exit,
    when (tick label), label (tooltip) and data."""
    left, right, top, lane_h = 140, 20, 16, 30
    height = top + lane_h * max(len(lanes), 1) + 40
    plot_w = width - left - right
    times = [e["t"] for e in events] or [0]
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1

    def x(t: float) -> float:
        return left + plot_w * (t - t0) / span

    parts = [_svg_open(width, height, css_class)]
    for i, lane in enumerate(lanes):
        y = top + lane_h * i + lane_h / 2
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#eee"/>')
        parts.append(f'<text class="lane" x="{left - 8}" y="{y + 4}" text-anchor="end">{escape(lane)}</text>')
    for event in events:
        y = top + lane_h * lanes.index(event["lane"]) + lane_h / 2
        color = "#d62728" if event["poor"] else ("#111" if event["exit"] else "#1f77b4")
        parts.append(f'<g class="event"{_data(event["data"])}><title>{escape(event["label"])}</title>')
        if event["exit"]:
            cx = x(event["t"])
            parts.append(
                f'<polygon points="{cx:.1f},{y - 8} {cx + 8:.1f},{y} {cx:.1f},{y + 8} {cx - 8:.1f},{y}" '
                f'fill="{color}"/>'
            )
        else:
            parts.append(
                f'<circle cx="{x(event["t"]):.1f}" cy="{y}" r="{6 if event["poor"] else 4}" fill="{color}"/>'
            )
        parts.append("</g>")
    axis_y = top + lane_h * max(len(lanes), 1) + 4
    for label, t, anchor in (
        ((events[0]["when"], t0, "start"), (events[-1]["when"], t1, "end")) if events else ()
    ):
        parts.append(
            f'<text class="tick" x="{x(t):.1f}" y="{axis_y + 14}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
