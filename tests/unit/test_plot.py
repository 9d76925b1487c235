"""The loads chart draws exactly the requested days, zero-filled, with a readable date axis, and
never adds uniques of several segments up as if they were one audience.

Asserted on the data handed to matplotlib (the figure's lines, limits and tick labels) and on
the file it saved.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib.dates import num2date

from segpixel.reporting.plot import MAX_LINES, daily_series, plot_daily

FIRST = date(2026, 3, 1)


def row(segment: int, day: date, loads: int, uniques: int) -> dict[str, object]:
    return {
        "segment_id": segment,
        "day": day.isoformat(),
        "total_loads": loads,
        "daily_uniques": uniques,
    }


def x_days(line) -> list[date]:  # type: ignore[no-untyped-def]
    return [d if isinstance(d, date) else num2date(d).date() for d in line.get_xdata()]


@pytest.mark.parametrize(
    "days",
    [pytest.param(1, id="1-day"), pytest.param(30, id="30-days"), pytest.param(731, id="2-years")],
)
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_the_x_axis_is_exactly_the_requested_days(tmp_path: Path, days: int, suffix: str) -> None:
    last = FIRST + timedelta(days=days - 1)
    rows = [row(7, FIRST, 5, 4), row(7, last, 9, 3)]  # loads on the first and last day only
    chart = daily_series(rows, FIRST, last, {7: "Cars"})
    path = tmp_path / f"chart{suffix}"
    figure = plot_daily(chart, path, "title")

    loads_axes, uniques_axes = figure.axes
    (loads,) = loads_axes.lines
    (uniques,) = uniques_axes.lines
    assert x_days(loads) == [FIRST + timedelta(days=n) for n in range(days)]
    expected = [0] * days
    expected[0], expected[-1] = 5, 9 if days > 1 else 14
    assert list(loads.get_ydata()) == expected, "every day drawn, the days without loads as 0"
    assert uniques.get_ydata()[0] == (4 if days > 1 else 7)
    low, high = (num2date(x).date() for x in uniques_axes.get_xlim())
    assert FIRST - timedelta(days=1) <= low <= FIRST and last <= high <= last + timedelta(days=1)
    figure.canvas.draw()
    labels = [t.get_text() for t in uniques_axes.get_xticklabels() if t.get_text()]
    assert labels, "the date axis has labels"
    assert not any(":" in label for label in labels), f"days, never hours: {labels}"
    assert len(labels) <= 14, f"readable, not crowded: {labels}"
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data


def test_several_segments_one_line_each(tmp_path: Path) -> None:
    last = FIRST + timedelta(days=6)
    names = {1: "Cars", 2: "Boats", 3: "Quiet"}
    rows = [row(1, FIRST, 10, 10), row(2, FIRST, 3, 3), row(2, last, 1, 1)]
    figure = plot_daily(daily_series(rows, FIRST, last, names), tmp_path / "c.svg", "t")
    _, uniques_axes = figure.axes
    assert [line.get_label() for line in uniques_axes.lines] == ["1 Cars", "2 Boats", "3 Quiet"]
    by_label = {line.get_label(): list(line.get_ydata()) for line in uniques_axes.lines}
    assert by_label["1 Cars"] == [10, 0, 0, 0, 0, 0, 0]
    assert by_label["2 Boats"] == [3, 0, 0, 0, 0, 0, 1]
    assert by_label["3 Quiet"] == [0] * 7, "a segment with no loads is a line at 0"
    assert uniques_axes.get_ylabel() == "daily uniques"
    assert "3 Quiet" in (tmp_path / "c.svg").read_text()


def test_many_segments_are_summed_and_labelled_as_such(tmp_path: Path) -> None:
    names = {n: f"s{n}" for n in range(1, MAX_LINES + 2)}
    rows = [row(n, FIRST, 2, 1) for n in names]
    figure = plot_daily(daily_series(rows, FIRST, FIRST, names), tmp_path / "c.png", "t")
    _, uniques_axes = figure.axes
    (line,) = uniques_axes.lines
    assert line.get_label() == f"sum of {len(names)} segments"
    assert list(line.get_ydata()) == [len(names)]
    assert "sum of per-segment uniques" in uniques_axes.get_ylabel()
    assert "not distinct users" in uniques_axes.get_ylabel()


def test_rows_outside_the_range_or_of_other_segments_are_ignored() -> None:
    chart = daily_series(
        [row(1, FIRST - timedelta(days=1), 5, 5), row(9, FIRST, 5, 5)], FIRST, FIRST, {1: "a"}
    )
    assert chart.series[0].loads == [0] and chart.series[0].uniques == [0]


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        plot_daily(daily_series([], FIRST, FIRST, {1: "a"}), tmp_path / "c.pdf", "t")
