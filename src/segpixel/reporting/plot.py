"""A chart of daily loads and daily uniques (PNG or SVG, by the file's extension).

matplotlib's object API on the Agg backend: no display, no global pyplot state, safe in a server
or a terminal without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

FORMATS = (".png", ".svg")


def plot_daily(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """`rows` have `day`, `total_loads` and `daily_uniques` (one row a day)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"the chart file must end in .png or .svg (got {path.name!r})")
    days = [date.fromisoformat(r["day"]) for r in rows]
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    axes = figure.subplots()
    axes.plot(days, [r["total_loads"] for r in rows], marker=".", label="loads")
    axes.plot(days, [r["daily_uniques"] for r in rows], marker=".", label="daily uniques")
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylim(bottom=0)
    axes.set_title(title)
    axes.set_xlabel("day (UTC)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(path)
