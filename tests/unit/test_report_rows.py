"""The report's rows made column by column from facts at the report's grain equal the rows made
from the counters as kept (the way they were made before grains: summed here, in dicts), for any
columns, range and names; and the download (CSV, JSON), whole or in parts, is what csv.writer and
orjson write.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, timedelta
from itertools import chain, compress
from typing import Any

import orjson
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from segpixel.domain.errors import ValidationFailed
from segpixel.domain.loads import (
    FINEST,
    SOURCE_CODES,
    SOURCES,
    Grain,
    LoadFacts,
    day_number,
    day_of,
    days,
    month_days,
    month_start,
)
from segpixel.domain.report_request import DIMENSIONS, METRICS, ReportRequest, parse_report
from segpixel.domain.report_rows import ReportTable, report_rows, report_table, segment_order
from segpixel.reporting.render import as_dicts, body, join, neutral, render

TODAY = date(2026, 3, 2)


def reference_rows(
    request: ReportRequest, kept: LoadFacts, names: Mapping[int, str], today: date
) -> list[tuple[Any, ...]]:
    """The rows as made before grains, from the counters as kept (FINEST): every fact summed
    into its group's dict entry, uniques looked up per segment."""
    dims = [c for c in request.columns if c in DIMENSIONS]
    by_segment = "segment_id" in dims or "segment_name" in dims
    by_day, by_month, by_source = "day" in dims, "month" in dims, "source" in dims
    rank = {sid: n for n, sid in enumerate(sorted(names, key=lambda s: (names[s], s)), 1)}
    loads: dict[tuple[int, ...], int] = {}
    segments: dict[tuple[int, ...], set[int]] = {}
    for (sid, day, source), n in kept.loads.items():
        key = (
            sid if by_segment else 0,
            rank.get(sid, 0) if by_segment else 0,
            day if by_day else 0,
            day // 100 if by_month else 0,
            SOURCE_CODES.get(source, len(SOURCES)) if by_source else 0,
        )
        loads[key] = loads.get(key, 0) + n
        segments.setdefault(key, set()).add(sid)
    position = {"segment_id": 0, "segment_name": 1, "day": 2, "month": 3, "source": 4}
    keys = sorted(loads, key=lambda k: tuple(k[position[d]] for d in dims))
    last, first = day_number(min(request.last, today)), day_number(request.first)
    sums: dict[tuple[int, int], int] = {}
    for (sid, day), n in kept.daily_uniques.items():
        if first <= day <= last:
            sums[(sid, day // 100)] = sums.get((sid, day // 100), 0) + n
    averages = {}
    for (sid, month), total in sums.items():
        start = max(month_start(month), request.first)
        end = min(month_start(month).replace(day=month_days(month)), request.last, today)
        averages[(sid, month)] = total / max((end - start).days + 1, 1)

    def per_segment(values: Mapping[tuple[int, int], Any], at: int, key: tuple[int, ...]) -> Any:
        return sum(values.get((s, key[at]), 0) for s in sorted(segments[key]))

    def value(column: str, key: tuple[int, ...]) -> Any:
        if column == "segment_id":
            return key[0]
        if column == "segment_name":
            return names.get(key[0], "")
        if column == "day":
            return day_of(key[2]).isoformat()
        if column == "month":
            return f"{key[3] // 100:04d}-{key[3] % 100:02d}"
        if column == "source":
            return SOURCES[key[4]] if key[4] < len(SOURCES) else "?"
        if column == "total_loads":
            return loads[key]
        if column == "daily_uniques":
            return per_segment(kept.daily_uniques, 2, key)
        if column == "monthly_uniques":
            return per_segment(kept.monthly_uniques, 3, key)
        return int(per_segment(averages, 3, key) + 0.5)

    return [tuple(value(c, key) for c in request.columns) for key in keys]


@st.composite
def cases(draw: st.DrawFn) -> tuple[ReportRequest, LoadFacts, dict[int, str]]:
    first = date(2026, 1, 20) + timedelta(days=draw(st.integers(0, 15)))
    last = first + timedelta(days=draw(st.integers(0, 45)))
    columns = draw(st.permutations([*DIMENSIONS, *METRICS]))[: draw(st.integers(1, 6))]
    body = {"report_type": "segment_load", "columns": columns}
    body.update(start_date=first.isoformat(), end_date=(last + timedelta(days=1)).isoformat())
    try:
        request = parse_report({"report": body}, TODAY)
    except ValidationFailed:
        assume(False)
    segments = draw(st.lists(st.integers(1, 400), min_size=1, max_size=4, unique=True))
    names = {
        sid: draw(st.sampled_from(["Cars", "Boats", "Cars", 'a, "b"', "x\ny", ""]))
        for sid in segments
    }
    loads: dict[tuple[int, int, str], int] = {}
    daily: dict[tuple[int, int], int] = {}
    for sid in segments:
        for day in draw(st.sets(st.sampled_from(list(days(first, last))), max_size=8)):
            for source in draw(st.sets(st.sampled_from(SOURCES), min_size=1, max_size=3)):
                loads[(sid, day_number(day), source)] = draw(st.integers(1, 500))
            daily[(sid, day_number(day))] = draw(st.integers(1, 9))
    monthly = {(sid, day // 100): draw(st.integers(1, 60)) for sid, day in daily}
    return request, LoadFacts.of(loads, daily, monthly), names


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_rows_from_facts_at_the_grain_equal_the_rows_from_the_counters(case: Any) -> None:
    request, kept, names = case
    facts = kept.summed(request.grain, day_number(request.uniques_last(TODAY)))
    assert report_rows(request, facts, names, TODAY) == reference_rows(request, kept, names, TODAY)
    # and read segment by segment, in parts, where the rows go segment by segment
    order = segment_order(request, names)
    if order is not None:
        parts = [order[:1], order[1:3], order[3:]]
        rows = chain.from_iterable(
            report_rows(request, _only(facts, part), {s: names[s] for s in part}, TODAY)
            for part in parts
        )
        assert list(rows) == report_rows(request, facts, names, TODAY)


def _only(facts: LoadFacts, segments: list[int]) -> LoadFacts:
    """The facts of some segments, as a store reads them."""
    keep = [sid in segments for sid in facts.segment_ids]

    def cut(values: list[Any] | None) -> list[Any] | None:
        return None if values is None else list(compress(values, keep))

    columns = (facts.segment_ids, facts.periods, facts.sources, facts.totals)
    return LoadFacts(facts.grain, *map(cut, columns), cut(facts.day_users), cut(facts.month_users))


def test_facts_must_be_at_the_reports_grain() -> None:
    request = parse_report(
        {"report": {"report_type": "segment_load", "columns": ["segment_id", "month",
                    "total_loads"], "report_interval": "today"}},
        TODAY,
    )  # fmt: skip
    assert request.grain == Grain("month", False)
    try:
        report_table(request, LoadFacts(FINEST), {}, TODAY)
    except ValueError as exc:
        assert "by Grain(period='month'" in str(exc)
    else:
        raise AssertionError("facts at another grain were taken")


def test_summing_the_counters_keeps_what_a_grain_can_hold() -> None:
    kept = LoadFacts.of(
        {(1, 20260131, "pixel"): 2, (1, 20260201, "batch"): 3, (1, 20260201, "pixel"): 1},
        {(1, 20260131): 2, (1, 20260201): 3},
        {(1, 202601): 2, (1, 202602): 3},
    )
    assert kept.grain == FINEST and kept.sources == ["pixel", "pixel", "batch"]
    by_month = kept.summed(Grain("month", False), uniques_last=20260131)
    assert by_month.loads == {(1, 202601, ""): 2, (1, 202602, ""): 4}
    assert by_month.daily_uniques == {(1, 202601): 2}  # the 1st is after uniques_last
    assert by_month.monthly_uniques == {(1, 202601): 2, (1, 202602): 3}
    overall = kept.summed(Grain("range", True))
    assert overall.loads == {(1, 0, "pixel"): 3, (1, 0, "batch"): 3}
    assert overall.daily_uniques == {(1, 0): 5} and overall.month_users is None


# -- the download ---------------------------------------------------------------------------

TRICKY = ["Cars", 'a, "b"', "x\ny", "", " spaced ", "r\rn", "é ü", 'say "hi"', "=1+2", "-x", "@a"]


def _writer(columns: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    """csv.writer's download, with a leading apostrophe before what a spreadsheet would run as
    a formula, and a carriage return quoted (the row terminator holds one, so csv quotes it)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[neutral(v) for v in row] for row in rows])
    return out.getvalue().replace("\r\n", "\n").encode()


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    assert [neutral(v) for v in ("=A1", "+1", "-1", "@x", "\tx", "\rx", "a=1", 5, -5)] == [
        "'=A1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "a=1",
        5,
        -5,
    ]


@given(
    st.lists(
        st.tuples(st.integers(0, 10**12), st.sampled_from(TRICKY), st.integers(0, 3)), max_size=40
    ),
    st.sampled_from([["id", "name", "n"], ["name"], ["n"], ["name", "id"]]),
)
def test_csv_and_json_are_what_csv_writer_and_orjson_write(rows: list, columns: list) -> None:
    picks = {"id": 0, "name": 1, "n": 2}
    rows = [tuple(r[picks[c]] for c in columns) for r in rows]
    table = ReportTable(tuple(columns), [[r[n] for r in rows] for n in range(len(columns))])
    assert render(table, "csv") == _writer(columns, rows)
    assert render(table, "json") == orjson.dumps({"rows": as_dicts(rows, columns)})
    for fmt in ("csv", "json"):  # in parts, any way cut
        parts = [rows[:3], rows[3:3], rows[3:17], rows[17:]]
        bodies = [
            body(ReportTable(tuple(columns), [[r[n] for r in p] for n in range(len(columns))]), fmt)
            for p in parts
        ]
        assert join(columns, fmt, bodies) == render(table, fmt)


def test_the_order_of_segments_when_rows_go_segment_by_segment() -> None:
    names = {3: "b", 1: "c", 2: "a", 4: "a"}

    def order(*columns: str) -> list[int] | None:
        body = {"report_type": "segment_load", "columns": list(columns), "report_interval": "today"}
        return segment_order(parse_report({"report": body}, TODAY), names)

    assert order("segment_id", "day", "total_loads") == [1, 2, 3, 4]
    assert order("segment_name", "segment_id", "total_loads") == [2, 4, 3, 1]
    assert order("day", "segment_id", "total_loads") is None
    assert order("total_loads") is None
