"""Daily loads and uniques as an inline SVG chart: the geometry here, the markup in a template.

Drawn on the server (no chart library, nothing from the internet): loads as bars, uniques as a
line over them, with a y axis rounded to a readable maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from segpixel.console.stats import DayLoads

WIDTH, HEIGHT = 1100, 260  # about the card's width, so text is drawn near its own size
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    cx: float  # centre, where the uniques line passes
    uy: float  # the uniques point's height
    label: str  # "2024-05-01: 1,234 loads, 987 uniques" (the hover title)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float  # y of the x axis
    right: float
    bars: list[Bar]
    uniques_line: str  # SVG polyline points
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    total_loads: int
    empty: bool


def nice_ceiling(value: float) -> float:
    """The next of 1, 2, 5 × 10^n at or above the value (at least 1)."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent  # pragma: no cover (the loop always returns)


def build(days: list[DayLoads]) -> Chart:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max([d.loads for d in days] + [d.uniques for d in days] + [0]))
    slot = plot_w / max(len(days), 1)
    bottom = TOP + plot_h

    def y_of(value: int) -> float:
        return round(bottom - value / top * plot_h, 1)

    bars = []
    for i, d in enumerate(days):
        x = LEFT + i * slot
        y = y_of(d.loads)
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 1),
                y=y,
                width=round(slot * 0.7, 1),
                height=round(bottom - y, 1),
                cx=round(x + slot / 2, 1),
                uy=y_of(d.uniques),
                label=f"{d.day.isoformat()}: {d.loads:,} loads, {d.uniques:,} uniques",
            )
        )
    every = max(1, math.ceil(len(days) / 6))  # about six dates along the axis
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        bottom=bottom,
        right=WIDTH - RIGHT,
        bars=bars,
        uniques_line=" ".join(f"{b.cx},{b.uy}" for b in bars),
        y_ticks=[(y_of(v), f"{v:,}") for v in _ticks(int(top))],
        x_labels=[(bars[i].cx, days[i].day.strftime("%b %d")) for i in range(0, len(days), every)],
        total_loads=sum(d.loads for d in days),
        empty=not any(d.loads or d.uniques for d in days),
    )


def _ticks(top: int) -> list[int]:
    """Whole-number gridlines: every unit up to 5, else five (or four) equal steps."""
    step = 1 if top <= 5 else (top // 5 if top % 5 == 0 else top // 4)
    return list(range(0, top + 1, step))
