"""The segment loads report's rows: the counters' facts grouped by the dimension columns.

`avg_daily_uniques` of a month is the mean of its daily uniques over the month's days that the
report covers, up to today — days without a load count as 0 — so a month that is half over is
not averaged over days yet to come. `monthly_uniques` is always the calendar month's, even when
the report covers part of it (users are counted per month, not per range of days).

A year of a thousand segments by day is 365,000 rows: the grouping keys are plain int tuples
(sorted by a precomputed rank, never by a Python key function per row), and labels such as a
day's ISO date are made once per value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from operator import itemgetter
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

# A group's key: (segment id, name rank, day, month, source code), 0 where not a dimension.
Key = tuple[int, int, int, int, int]
_POSITION = {"segment_id": 0, "segment_name": 1, "day": 2, "month": 3, "source": 4}


def report_rows(
    request: ReportRequest, facts: LoadFacts, names: Mapping[int, str], today: date
) -> list[tuple[Any, ...]]:
    """The rows, each a tuple of `request.columns`' values, in the order of the dimensions."""
    dims = [c for c in request.columns if c in DIMENSIONS]
    by_segment, by_day = "segment_id" in dims or "segment_name" in dims, "day" in dims
    by_month, by_source = "month" in dims, "source" in dims
    rank = {sid: n for n, sid in enumerate(sorted(names, key=lambda s: (names[s], s)), 1)}
    loads: dict[Key, int] = {}
    segments: dict[Key, set[int]] = {}  # a group's segments, when they are not its key
    for (sid, day, source), n in facts.loads.items():
        key = (
            sid if by_segment else 0,
            rank.get(sid, 0) if by_segment else 0,
            day if by_day else 0,
            day // 100 if by_month else 0,
            SOURCE_CODES.get(source, len(SOURCES)) if by_source else 0,
        )
        loads[key] = loads.get(key, 0) + n
        if not by_segment:
            segments.setdefault(key, set()).add(sid)
    keys = sorted(loads, key=itemgetter(*(_POSITION[d] for d in dims))) if dims else list(loads)
    context = _Context(request, facts, names, today, loads, segments)
    # Column by column, then zipped into rows; the common columns are C-level maps over the
    # keys (itemgetter, dict lookups), with no Python call per cell.
    columns = [list(_column(c, context, keys)) for c in request.columns]
    return list(zip(*columns, strict=True))


@dataclass(frozen=True, slots=True)
class _Context:
    request: ReportRequest
    facts: LoadFacts
    names: Mapping[int, str]
    today: date
    loads: dict[Key, int]
    segments: dict[Key, set[int]]

    def per_segment(
        self, values: Mapping[tuple[int, int], Any], at: int, keys: list[Key]
    ) -> Iterable[Any]:
        """A metric kept per (segment, period): each group's segment's, or its segments' sum."""
        if not self.segments:
            return map(values.get, map(itemgetter(0, at), keys), repeat(0))
        return (sum(values.get((s, key[at]), 0) for s in self.segments[key]) for key in keys)


def _column(column: str, c: _Context, keys: list[Key]) -> Iterable[Any]:
    """`column`'s values, one per group key (the request's rules put day / month in the key)."""
    if column == "segment_id":
        return map(itemgetter(0), keys)
    if column == "segment_name":
        return map(c.names.get, map(itemgetter(0), keys), repeat(""))
    if column == "day":
        return _labelled(map(itemgetter(2), keys), lambda day: day_of(day).isoformat())
    if column == "month":
        return _labelled(map(itemgetter(3), keys), lambda m: f"{m // 100:04d}-{m % 100:02d}")
    if column == "source":
        return (SOURCES[key[4]] if key[4] < len(SOURCES) else "?" for key in keys)
    if column == "total_loads":
        return map(c.loads.__getitem__, keys)
    if column == "daily_uniques":
        return c.per_segment(c.facts.daily_uniques, 2, keys)
    if column == "monthly_uniques":
        return c.per_segment(c.facts.monthly_uniques, 3, keys)
    averages = c.per_segment(_averages(c.request, c.facts, c.today), 3, keys)
    return (int(average + 0.5) for average in averages)  # avg_daily_uniques: an int, half up


def _labelled(values: Iterable[int], label: Callable[[int], str]) -> Iterable[str]:
    """Each value's label, made once per distinct value (a year has 365 days, not 365,000)."""
    values = list(values)
    made = {value: label(value) for value in set(values)}
    return map(made.__getitem__, values)


def _averages(
    request: ReportRequest, facts: LoadFacts, today: date
) -> dict[tuple[int, int], float]:
    """Mean daily uniques of each (segment, month) over the days the report covers, to today."""
    last = day_number(min(request.last, today))
    first = day_number(request.first)
    sums: dict[tuple[int, int], int] = {}
    for (sid, day), n in facts.daily_uniques.items():
        if first <= day <= last:
            sums[(sid, day // 100)] = sums.get((sid, day // 100), 0) + n
    out = {}
    for (sid, month), total in sums.items():
        start = max(month_start(month), request.first)
        end = min(month_start(month).replace(day=month_days(month)), request.last, today)
        out[(sid, month)] = total / max((end - start).days + 1, 1)
    return out
