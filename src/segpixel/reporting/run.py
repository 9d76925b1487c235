"""Run a segment loads report: which segments the caller may see, their counters, the rows.

Shared by the API's report jobs and `segpixel report loads`, so both answer alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segpixel.catalog.segments import SegmentRepo
from segpixel.catalog.tables import Segment
from segpixel.domain.access import Principal
from segpixel.domain.report_request import ReportRequest
from segpixel.domain.report_rows import report_rows
from segpixel.errors import NotFound
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
) -> list[tuple[Any, ...]]:
    """The rows of `request` over the segments `names` holds (already checked for the caller),
    each a tuple of the columns' values."""
    if not names:
        return []
    facts = await stats.facts(
        list(names),
        request.first,
        request.last,
        daily_uniques=request.daily_uniques,
        monthly_uniques=request.monthly_uniques,
    )
    # A year of a thousand segments is a few hundred thousand rows: off the event loop.
    return await asyncio.to_thread(report_rows, request, facts, names, today)
