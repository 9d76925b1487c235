"""The segment loads report's rows: the counters' facts grouped by the dimension columns.

`avg_daily_uniques` of a month is the mean of its daily uniques over the month's days that the
report covers, up to today — days without a load count as 0 — so a month that is half over is
not averaged over days yet to come. `monthly_uniques` is always the calendar month's, even when
the report covers part of it (users are counted per month, not per range of days).

The store sums the counters to the report's grain (`ReportRequest.grain`: by segment, and by the
report's period and source columns), so with a segment column each fact is a row, and the
report is made column by column from the facts' columns. A year of a thousand segments by day
is 365,000 rows: the columns are C-level maps over lists (no dict, no tuple, no Python call per
row), the facts' order (segment, period, source) is kept when the columns ask for it and
otherwise re-sorted by int keys, and labels such as a day's ISO date are made once per value.
Without a segment column the rows add segments up, in a dict per group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from operator import floordiv, itemgetter
from typing import Any

from segpixel.domain.loads import (
    SOURCE_CODES,
    SOURCES,
    LoadFacts,
    day_number,
    day_of,
    month_days,
    month_start,
)
from segpixel.domain.report_request import DIMENSIONS, ReportRequest

# Where each dimension falls in the facts' order (segment, period, source).
_LEVEL = {"segment_id": 0, "segment_name": 0, "day": 1, "month": 1, "source": 2}
_SOURCE_LABELS = {name: name for name in SOURCES}  # an unknown source shows as "?"
_SEGMENT = {"segment_id", "segment_name"}
_DECIDED_BY = {"segment_id": _SEGMENT, "segment_name": _SEGMENT, "month": {"day"}}


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A report's values column by column (`values[i]` is `columns[i]`'s, one per row): how they
    are made, and how CSV is written fastest."""

    columns: tuple[str, ...]
    values: list[list[Any]]

    def __len__(self) -> int:
        return len(self.values[0]) if self.values else 0

    def rows(self) -> list[tuple[Any, ...]]:
        return list(zip(*self.values, strict=True))


def report_rows(
    request: ReportRequest, facts: LoadFacts, names: Mapping[int, str], today: date
) -> list[tuple[Any, ...]]:
    """The rows, each a tuple of `request.columns`' values, in the order of the dimensions."""
    return report_table(request, facts, names, today).rows()


def report_table(
    request: ReportRequest, facts: LoadFacts, names: Mapping[int, str], today: date
) -> ReportTable:
    """The report's columns, rows in the order of the dimensions. `facts` are summed to
    `request.grain`, with the daily uniques of the days up to `request.uniques_last(today)`."""
    if facts.grain != request.grain:
        raise ValueError(f"the report needs facts by {request.grain}, not {facts.grain}")
    dims = [c for c in request.columns if c in DIMENSIONS]
    if "segment_id" in dims or "segment_name" in dims:
        values = _by_segment(request, facts, names, today, dims)
    else:
        values = _summed(request, facts, today, dims)
    return sorted_table(ReportTable(request.columns, values), request.orders)


def sorted_table(table: ReportTable, orders: tuple[tuple[str, bool], ...]) -> ReportTable:
    """The rows in the request's `orders` (column, descending), the first order deciding first;
    rows that tie keep the dimensions' order."""
    if not orders or not len(table):
        return table
    index = list(range(len(table)))
    for column, descending in reversed(orders):  # stable sorts, the last order first
        values = table.values[table.columns.index(column)]
        index.sort(key=values.__getitem__, reverse=descending)
    return ReportTable(table.columns, [list(map(v.__getitem__, index)) for v in table.values])


def segment_order(request: ReportRequest, names: Mapping[int, str]) -> list[int] | None:
    """The segments in the order of the rows, when the rows go segment by segment (their first
    dimension is the segment's id or name): a report of some of them is those rows, in order.
    None for any other report."""
    dims = [c for c in request.columns if c in DIMENSIONS]
    if request.orders:  # sorted as asked: the rows cannot go segment by segment
        return None
    if dims[:1] == ["segment_id"]:
        return sorted(names)
    if dims[:1] == ["segment_name"]:
        return sorted(names, key=lambda s: (names[s], s))
    return None


def _by_segment(
    request: ReportRequest,
    facts: LoadFacts,
    names: Mapping[int, str],
    today: date,
    dims: list[str],
) -> list[list[Any]]:
    """A row per fact, made column by column."""
    by_name = sorted(names, key=lambda s: (names[s], s))
    order = _order(dims, facts, by_name)

    def cut(values: list[Any]) -> list[Any]:  # a facts' column in the rows' order
        return values if order is None else list(map(values.__getitem__, order))

    sids, periods = cut(facts.segment_ids), cut(facts.periods)
    month_of = facts.grain.month_of
    out: list[list[Any]] = []
    for column in request.columns:
        if column == "segment_id":
            out.append(sids)
        elif column == "segment_name":
            out.append(list(map(names.get, sids, repeat(""))))
        elif column == "day":
            out.append(_labelled(periods, _day_label))
        elif column == "month":
            out.append(_labelled(list(map(month_of, periods)), _month_label))
        elif column == "source":
            out.append(list(map(_SOURCE_LABELS.get, cut(facts.sources), repeat("?"))))
        elif column == "total_loads":
            out.append(cut(facts.totals))
        elif column == "daily_uniques":
            out.append(cut(_given(facts.day_users)))
        elif column == "monthly_uniques":
            out.append(cut(_given(facts.month_users)))
        else:  # avg_daily_uniques: an int, half up
            averages = _averages(request, facts, today)
            out.append([int(a + 0.5) for a in cut(averages)])
    return out


def _order(dims: list[str], facts: LoadFacts, by_name: list[int]) -> list[int] | None:
    """The rows' order as indexes into the facts, or None when it is the facts' own: the
    dimensions sort the rows in their order (segment names by name, then id)."""
    # The dimensions that decide it: a segment's id or name decides the other, a day its month.
    deciding: list[str] = []
    for dim in dims:
        if not _DECIDED_BY.get(dim, set()) & set(deciding):
            deciding.append(dim)
    if by_name == sorted(by_name):  # names sort as ids do
        deciding = ["segment_id" if d == "segment_name" else d for d in deciding]
    levels = [_LEVEL[d] for d in deciding]
    if "segment_name" not in deciding and levels == sorted(levels):
        return None
    rank = {sid: n for n, sid in enumerate(by_name)}
    month_of = facts.grain.month_of
    keys = {
        "segment_id": lambda: facts.segment_ids,
        "segment_name": lambda: list(map(rank.__getitem__, facts.segment_ids)),
        "day": lambda: facts.periods,
        "month": lambda: list(map(month_of, facts.periods)),
        "source": lambda: list(map(SOURCE_CODES.get, facts.sources, repeat(len(SOURCES)))),
    }
    order = list(range(len(facts)))
    for dim in reversed(deciding):  # stable sorts, the last dimension first: by all of them
        order.sort(key=keys[dim]().__getitem__)
    return order


def _summed(
    request: ReportRequest, facts: LoadFacts, today: date, dims: list[str]
) -> list[list[Any]]:
    """Without a segment column, a row adds up its segments: their loads, and their uniques
    (each segment's own, one fact a segment in a group: uniques cannot be split by source)."""
    by_day, by_month = "day" in dims, "month" in dims
    by_source, month_of = "source" in dims, facts.grain.month_of
    shown = request.columns
    none: list[Any] = [0] * len(facts)
    day_users = _given(facts.day_users) if "daily_uniques" in shown else none
    month_users = _given(facts.month_users) if "monthly_uniques" in shown else none
    averages = _averages(request, facts, today) if "avg_daily_uniques" in shown else none
    groups: dict[tuple[int, int, int], list[Any]] = {}  # (day, month, source code) → sums
    for n, (period, source, loads) in enumerate(
        zip(facts.periods, facts.sources, facts.totals, strict=True)
    ):
        key = (
            period if by_day else 0,
            month_of(period) if by_month else 0,
            SOURCE_CODES.get(source, len(SOURCES)) if by_source else 0,
        )
        sums = groups.get(key)
        if sums is None:
            sums = groups[key] = [0, 0, 0, 0.0]
        sums[0] += loads
        sums[1] += day_users[n]
        sums[2] += month_users[n]
        sums[3] += averages[n]
    position = {"day": 0, "month": 1, "source": 2}
    keys = sorted(groups, key=itemgetter(*(position[d] for d in dims))) if dims else list(groups)
    values = {
        "day": lambda: _labelled(list(map(itemgetter(0), keys)), _day_label),
        "month": lambda: _labelled(list(map(itemgetter(1), keys)), _month_label),
        "source": lambda: [SOURCES[k[2]] if k[2] < len(SOURCES) else "?" for k in keys],
        "total_loads": lambda: [groups[k][0] for k in keys],
        "daily_uniques": lambda: [groups[k][1] for k in keys],
        "monthly_uniques": lambda: [groups[k][2] for k in keys],
        "avg_daily_uniques": lambda: [int(groups[k][3] + 0.5) for k in keys],
    }
    return [values[c]() for c in request.columns]


def _averages(request: ReportRequest, facts: LoadFacts, today: date) -> list[float]:
    """Each fact's mean daily uniques of its segment and month over the days the report
    covers, to today."""
    users = _given(facts.day_users)
    covered: dict[int, int] = {}  # month → how many of its days are covered, to today

    def days_of(month: int) -> int:
        found = covered.get(month)
        if found is None:
            start = max(month_start(month), request.first)
            end = min(month_start(month).replace(day=month_days(month)), request.last, today)
            found = covered[month] = max((end - start).days + 1, 1)
        return found

    if facts.grain.period == "month":  # the store summed each month's days, to today
        return [n / days_of(m) for n, m in zip(users, facts.periods, strict=True)]
    last = day_number(min(request.last, today))
    sums: dict[tuple[int, int], int] = {}  # (segment, month) → the uniques of its days
    for sid, day, n in zip(facts.segment_ids, facts.periods, users, strict=True):
        if day <= last:
            sums[(sid, day // 100)] = sums.get((sid, day // 100), 0) + n
    months = list(map(floordiv, facts.periods, repeat(100)))
    return [
        sums.get((sid, m), 0) / days_of(m) for sid, m in zip(facts.segment_ids, months, strict=True)
    ]


def _given(values: list[int] | None) -> list[int]:
    if values is None:  # the request asks the store for every column it shows
        raise ValueError("the facts lack uniques the report shows")
    return values


def _labelled(values: list[int], label: Callable[[int], str]) -> list[str]:
    """Each value's label, made once per distinct value (a year has 365 days, not 365,000)."""
    made = {value: label(value) for value in set(values)}
    return list(map(made.__getitem__, values))


def _day_label(day: int) -> str:
    return day_of(day).isoformat()


def _month_label(month: int) -> str:
    return f"{month // 100:04d}-{month % 100:02d}"
