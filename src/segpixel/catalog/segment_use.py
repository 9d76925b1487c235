"""Segments that creatives add and line items target: which a buyer may use, and what is in use.

An advertiser's creative or line item may use the member's member-level segments and its own
advertiser's (SPEC §1.2: an advertiser-level segment is targetable by that advertiser only).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from segpixel.catalog.tables import CreativeSegment, LineItemSegment, Segment
from segpixel.domain.access import Principal
from segpixel.domain.errors import FieldError, field_error, raise_if_any
from segpixel.domain.segments import keeps_text
from segpixel.domain.targeting_rules import SegmentFacts


def check_segment_refs(
    session: Session,
    principal: Principal,
    refs: list[tuple[str, int]],
    member_id: int,
    advertiser_id: int,
) -> None:
    """SYNTAX naming each field whose segment the buyer may not use."""
    if not refs:
        return
    ids = sorted({sid for _, sid in refs})
    found = {s.id: s for s in session.scalars(select(Segment).where(Segment.id.in_(ids)))}
    errors: list[FieldError] = []
    for field, sid in refs:
        segment = found.get(sid)
        if segment is None or not principal.sees_segment(segment.member_id, segment.advertiser_id):
            errors.append(
                field_error(field, f"must be a segment you can see (segment {sid} not found)")
            )
        elif segment.member_id != member_id:
            errors.append(
                field_error(
                    field,
                    f"must be a segment of member {member_id} (segment {sid} belongs to member "
                    f"{segment.member_id})",
                )
            )
        elif segment.advertiser_id not in (None, advertiser_id):
            errors.append(
                field_error(
                    field,
                    f"must be a member-level segment or one of advertiser {advertiser_id} "
                    f"(segment {sid} belongs to advertiser {segment.advertiser_id})",
                )
            )
    raise_if_any(errors)


def facts_of(segment: Segment | None) -> SegmentFacts | None:
    """What targeting needs of a segment: its id, and whether it keeps a text value."""
    if segment is None:
        return None
    return SegmentFacts(segment.id, keeps_text(segment.querystring_mapping))


def segment_lookups(
    session: Session, member_id: int
) -> tuple[Callable[[int], SegmentFacts | None], Callable[[str], SegmentFacts | None]]:
    """(by id, by code within the member) for `targeting_rules.bind_segments`; codes match as in
    pixels, case-sensitively."""

    def by_code(code: str) -> SegmentFacts | None:
        stmt = select(Segment).where(Segment.member_id == member_id, Segment.code == code)
        return facts_of(session.scalars(stmt).first())

    return (lambda sid: facts_of(session.get(Segment, sid))), by_code


def segment_use(session: Session, segment_id: int) -> str | None:
    """What still uses the segment, as words for an INTEGRITY answer; None when nothing does."""
    uses = []
    for owner, column, what in (
        (CreativeSegment.creative_id, CreativeSegment.segment_id, "creative(s)"),
        (LineItemSegment.line_item_id, LineItemSegment.segment_id, "line item(s)"),
    ):
        owners = session.scalars(
            select(owner).where(column == segment_id).distinct().order_by(owner).limit(5)
        ).all()
        if owners:
            uses.append(f"{what} {', '.join(map(str, owners))}")
    return " and ".join(uses) or None
