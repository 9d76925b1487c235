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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
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
    # Column by column (map), then zipped into rows: no Python call per cell where C can do it.
    return list(zip(*(list(map(_cell(c, context), keys)) for c in request.columns), strict=True))


@dataclass(frozen=True, slots=True)
class _Context:
    request: ReportRequest
    facts: LoadFacts
    names: Mapping[int, str]
    today: date
    loads: dict[Key, int]
    segments: dict[Key, set[int]]

    def per_segment(self, values: Mapping[tuple[int, int], Any], at: int) -> Callable[[Key], Any]:
        """A metric kept per (segment, period): the group's segment's, or its segments' sum."""
        if not self.segments:
            return lambda key: values.get((key[0], key[at]), 0)
        return lambda key: sum(values.get((s, key[at]), 0) for s in self.segments[key])


def _cell(column: str, c: _Context) -> Callable[[Key], Any]:
    """How to fill `column` from a group's key (the request's rules put day / month in it)."""
    if column == "segment_id":
        return itemgetter(0)
    if column == "segment_name":
        return lambda key: c.names.get(key[0], "")
    if column == "day":
        return _labelled(2, lambda day: day_of(day).isoformat())
    if column == "month":
        return _labelled(3, lambda month: f"{month // 100:04d}-{month % 100:02d}")
    if column == "source":
        return lambda key: SOURCES[key[4]] if key[4] < len(SOURCES) else "?"
    if column == "total_loads":
        return c.loads.__getitem__
    if column == "daily_uniques":
        return c.per_segment(c.facts.daily_uniques, 2)
    if column == "monthly_uniques":
        return c.per_segment(c.facts.monthly_uniques, 3)
    average = c.per_segment(_averages(c.request, c.facts, c.today), 3)
    return lambda key: int(average(key) + 0.5)  # avg_daily_uniques: an int, half up


def _labelled(position: int, label: Callable[[int], str]) -> Callable[[Key], str]:
    made: dict[int, str] = {}

    def cell(key: Key) -> str:
        value = key[position]
        text = made.get(value)
        if text is None:
            text = made[value] = label(value)
        return text

    return cell


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
