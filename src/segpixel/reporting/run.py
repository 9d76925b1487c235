"""Run a segment loads report: which segments the caller may see, their counters, the rows.

Shared by the API's report jobs and `segpixel report loads`, so both answer alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from segpixel.catalog.segments import SegmentRepo
from segpixel.catalog.tables import Segment
from segpixel.domain.access import Principal
from segpixel.domain.loads import LoadFacts
from segpixel.domain.report_request import ReportRequest
from segpixel.domain.report_rows import ReportTable, report_table, segment_order
from segpixel.errors import NotFound
from segpixel.reporting.render import body, join
from segpixel.stats.base import LoadStats


def visible_segments(
    session: Session,
    principal: Principal,
    segment_ids: tuple[int, ...] | None,
    member_id: int | None = None,
) -> dict[int, str]:
    """Segment id → name of the segments the report covers.

    Named segments the caller may not see are NOTFOUND, as everywhere in the API (a member cannot
    learn that another member's segment exists, let alone its loads); without a filter, every
    segment the caller sees (of `member_id` when given).
    """
    repo = SegmentRepo(session, principal)
    if segment_ids:
        rows = repo.get_many(list(segment_ids))
        foreign = [str(r.id) for r in rows if member_id is not None and r.member_id != member_id]
        if foreign:
            raise NotFound(f"segment {', '.join(foreign)} not found in member {member_id}")
        return {r.id: r.short_name for r in rows}
    if member_id is not None:
        repo.require_member(member_id)
    stmt = select(Segment.id, Segment.short_name)
    if member_id is not None:
        stmt = stmt.where(Segment.member_id == member_id)
    return {sid: name for sid, name in session.execute(repo.scope(stmt).order_by(Segment.id))}


async def report(
    request: ReportRequest, names: Mapping[int, str], stats: LoadStats, today: date
) -> ReportTable:
    """The report of `request` over the segments `names` holds (already checked for the caller),
    column by column."""
    tables = [table async for table in _tables(request, names, stats, today, [list(names)])]
    if not tables:
        return ReportTable(request.columns, [[] for _ in request.columns])
    return tables[0]


async def report_download(
    request: ReportRequest, names: Mapping[int, str], stats: LoadStats, today: date
) -> tuple[bytes, int]:
    """The report's download (CSV or JSON) and how many rows it has.

    A report whose rows go segment by segment is read and written in parts of CHUNK segments,
    the store reading a part while the previous one is written (a year of a thousand segments
    by day: Redis counting uniques, SQLite summing, while Python makes the CSV of what came
    before); any other is one part.
    """
    order = segment_order(request, names)
    parts = [list(names)] if order is None else _split(order)
    bodies, rows = [], 0
    async for table in _tables(request, names, stats, today, parts):
        bodies.append(await asyncio.to_thread(body, table, request.format))
        rows += len(table)
    return join(request.columns, request.format, bodies), rows


CHUNK = 125  # segments a part: a year of them by day is ~45,000 rows


def _split(ids: list[int]) -> list[list[int]]:
    return [ids[n : n + CHUNK] for n in range(0, len(ids), CHUNK)]


async def _tables(
    request: ReportRequest,
    names: Mapping[int, str],
    stats: LoadStats,
    today: date,
    parts: list[list[int]],
) -> AsyncIterator[ReportTable]:
    """Each part's table, in order; the next part's facts are read while one is made."""
    parts = [part for part in parts if part]

    def read(part: list[int]) -> asyncio.Task[LoadFacts]:
        facts = stats.facts(
            part,
            request.first,
            request.last,
            daily_uniques=request.daily_uniques,
            monthly_uniques=request.monthly_uniques,
            grain=request.grain,
            uniques_last=request.uniques_last(today),
        )
        return asyncio.ensure_future(facts)

    reading = read(parts[0]) if parts else None
    try:
        for n, part in enumerate(parts):
            assert reading is not None
            facts = await reading
            reading = read(parts[n + 1]) if n + 1 < len(parts) else None
            part_names = {sid: names[sid] for sid in part}
            # a few hundred thousand rows take a while: off the event loop
            yield await asyncio.to_thread(report_table, request, facts, part_names, today)
    finally:
        if reading is not None:
            reading.cancel()
