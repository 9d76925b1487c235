"""A chart of daily loads and daily uniques (PNG or SVG, by the file's extension).

The chart tells the truth about the report it draws:
- the x axis covers exactly the requested days, first to last, and a day without loads is drawn
  as 0 (the report leaves such days out; `daily_series` fills them in);
- the date axis reads at any range from 1 day to 2 years (day ticks, then months, then quarters);
- uniques of different segments are never added up as if they were distinct users: one line per
  segment, or — past MAX_LINES segments — the sums, labelled for what they are.

matplotlib's object API on the Agg backend: no display, no global pyplot state, safe in a server
or a terminal without one. `figure_of` returns the figure (tests read its lines), `plot_daily`
saves it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

FORMATS = (".png", ".svg")
MAX_LINES = 8  # beyond this many segments the lines are unreadable: draw the sums instead
MARKERS_UP_TO = 62  # days; past that the dots hide the line


@dataclass(frozen=True)
class Series:
    label: str
    loads: list[int]
    uniques: list[int]


@dataclass(frozen=True)
class DailyChart:
    days: list[date]
    series: list[Series]
    summed: bool  # the series is a sum over segments (its uniques are not distinct users)


def daily_series(
    rows: Sequence[Mapping[str, Any]], first: date, last: date, names: Mapping[int, str]
) -> DailyChart:
    """Report rows (`segment_id`, `day`, `total_loads`, `daily_uniques`) as one zero-filled series
    per segment of `names` over every day from `first` to `last`."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    index = {d.isoformat(): i for i, d in enumerate(days)}
    loads = {sid: [0] * len(days) for sid in names}
    uniques = {sid: [0] * len(days) for sid in names}
    for row in rows:
        sid, at = int(row["segment_id"]), index.get(str(row["day"]))
        if sid in loads and at is not None:
            loads[sid][at] += int(row["total_loads"] or 0)
            uniques[sid][at] += int(row["daily_uniques"] or 0)
    if len(names) <= MAX_LINES:
        series = [Series(f"{sid} {name}", loads[sid], uniques[sid]) for sid, name in names.items()]
        return DailyChart(days, series, summed=False)
    total = Series(
        f"sum of {len(names)} segments",
        [sum(col) for col in zip(*loads.values(), strict=True)],
        [sum(col) for col in zip(*uniques.values(), strict=True)],
    )
    return DailyChart(days, [total], summed=True)


def figure_of(chart: DailyChart, title: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 6), layout="constrained")
    loads_axes, uniques_axes = figure.subplots(2, 1, sharex=True)
    marker = "." if len(chart.days) <= MARKERS_UP_TO else None
    for series in chart.series:
        loads_axes.plot(chart.days, series.loads, marker=marker, label=series.label)
        uniques_axes.plot(chart.days, series.uniques, marker=marker, label=series.label)
    loads_axes.set_title(title)
    loads_axes.set_ylabel("loads")
    uniques_axes.set_ylabel(
        "sum of per-segment uniques\n(not distinct users)" if chart.summed else "daily uniques"
    )
    uniques_axes.set_xlabel("day (UTC)")
    locator, formatter = date_axis(len(chart.days))
    uniques_axes.xaxis.set_major_locator(locator)
    uniques_axes.xaxis.set_major_formatter(formatter)
    half = 0.5  # a day's half on each side: one day is a visible range, not a point
    uniques_axes.set_xlim(date2num(chart.days[0]) - half, date2num(chart.days[-1]) + half)
    for axes in (loads_axes, uniques_axes):
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
        axes.yaxis.get_major_locator().set_params(integer=True)
    loads_axes.legend(loc="upper left", fontsize="small")
    return figure


def date_axis(days: int) -> tuple[Any, Any]:
    """Ticks on whole days for short ranges ("Mar 05"), on months for long ones ("Apr", the year
    at January) — never on hours, at most a dozen or so."""
    from matplotlib.dates import ConciseDateFormatter, DateFormatter, DayLocator, MonthLocator

    if days <= 92:
        return DayLocator(interval=max(1, math.ceil(days / 10))), DateFormatter("%b %d")
    step = next(s for s in (1, 2, 3, 4, 6, 12) if days / 30.4 / s <= 12)
    # Steps that divide the year keep January a tick, where the formatter writes the year.
    locator = MonthLocator(bymonth=range(1, 13, step), bymonthday=1)
    return locator, ConciseDateFormatter(locator)


def plot_daily(chart: DailyChart, path: Path, title: str) -> Any:
    """Draw `chart` to `path` (.png or .svg); the figure, for whoever wants to look inside."""
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"the chart file must end in .png or .svg (got {path.name!r})")
    figure = figure_of(chart, title)
    figure.savefig(path)
    return figure
