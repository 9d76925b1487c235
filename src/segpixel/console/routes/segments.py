"""An advertiser's Segment Pixels: the list, one segment's page, and the quick actions
(deactivate / activate, move to member level, delete with confirmation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from segpixel.catalog.segments import SegmentRepo, segment_out
from segpixel.console import chart, data, stats
from segpixel.console.deps import FormDep, UserDep
from segpixel.console.render import page
from segpixel.console.routes._common import done
from segpixel.console.urls import advertiser_url, segment_url
from segpixel.domain.segments import PIGGYBACK_RULES
from segpixel.errors import BadRequest, Conflict

router = APIRouter()
SearchParam = Annotated[str, Query(max_length=255)]
StateParam = Annotated[str, Query(pattern="^(|active|inactive)$")]
StartParam = Annotated[int, Query(ge=0, le=10**9)]
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]
CHART_DAYS = 30


@router.get("/advertisers/{advertiser_id:int}/segments")
def segment_pixels(
    request: Request,
    user: UserDep,
    advertiser_id: int,
    search: SearchParam = "",
    state: StateParam = "",
    start: StartParam = 0,
) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        total, rows = data.segments(session, user.principal, owner, search.strip(), state, start)
        segments = [segment_out(row) for row in rows]
    return page(
        request,
        "segments.html",
        user,
        owner=owner,
        segments=stats.with_quick_stats(user, segments),
        total=total,
        search=search,
        state=state,
        start=start,
        size=data.PAGE_SIZE,
        can_create=user.principal.changes_segment(owner.member.id, owner.id),
    )


@router.get("/advertisers/{advertiser_id:int}/segments/{segment_id:int}")
def segment_page(request: Request, user: UserDep, advertiser_id: int, segment_id: int) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        row = data.segment(session, user.principal, owner, segment_id)
        segment = stats.with_quick_stats(user, [segment_out(row)])[0]
    history = stats.daily_history(user.state, segment_id, CHART_DAYS)
    principal = user.principal
    return page(
        request,
        "segment.html",
        user,
        owner=owner,
        segment=segment,
        chart=chart.build(history) if history else None,
        reporting=history is not None,
        chart_days=CHART_DAYS,
        rules=PIGGYBACK_RULES,
        can_change=principal.changes_segment(segment["member_id"], segment["advertiser_id"]),
        can_move=segment["advertiser_id"] is not None
        and principal.changes_segment(segment["member_id"], None),
    )


@router.post("/advertisers/{advertiser_id:int}/segments/{segment_id:int}/state")
def set_state(
    request: Request, user: UserDep, form: FormDep, advertiser_id: int, segment_id: int
) -> Response:
    wanted = form.get("state")
    if wanted not in ("active", "inactive"):
        raise BadRequest("state must be 'active' or 'inactive'")
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        row = data.segment(session, user.principal, owner, segment_id)
        SegmentRepo(session, user.principal).update(row, {"state": wanted}, append=False)
        name = row.short_name
    verb = (
        "activated: pixels add users to it again"
        if wanted == "active"
        else ("deactivated: pixels no longer add users to it and it cannot be targeted")
    )
    return done(request, segment_url(advertiser_id, segment_id), f"“{name}” {verb}.", segment_id)


@router.post("/advertisers/{advertiser_id:int}/segments/{segment_id:int}/move-to-member")
def move_to_member(
    request: Request, user: UserDep, _form: FormDep, advertiser_id: int, segment_id: int
) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        row = data.segment(session, user.principal, owner, segment_id)
        # What the seed describes: `advertiser_id` set to null through the Segment Service.
        SegmentRepo(session, user.principal).update(row, {"advertiser_id": None}, append=False)
        name, member = row.short_name, owner.member.name
    message = f"“{name}” is now a member-level segment: every advertiser of {member} can target it."
    return done(request, segment_url(advertiser_id, segment_id), message, segment_id)


@router.get("/advertisers/{advertiser_id:int}/segments/{segment_id:int}/delete")
def confirm_delete(
    request: Request, user: UserDep, advertiser_id: int, segment_id: int
) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        segment = segment_out(data.segment(session, user.principal, owner, segment_id))
    return page(request, "delete.html", user, owner=owner, segment=segment, error="")


@router.post("/advertisers/{advertiser_id:int}/segments/{segment_id:int}/delete")
def delete(
    request: Request, user: UserDep, _form: FormDep, advertiser_id: int, segment_id: int
) -> Response:
    try:
        with user.session() as session:
            owner = data.owner(session, user.principal, advertiser_id)
            row = data.segment(session, user.principal, owner, segment_id)
            name = row.short_name
            SegmentRepo(session, user.principal).delete(row)
    except Conflict as exc:  # still used by a creative or line item: say so on the same page
        with user.session() as session:  # (the rollback expired what the first session loaded)
            owner = data.owner(session, user.principal, advertiser_id)
            segment = segment_out(data.segment(session, user.principal, owner, segment_id))
        return page(
            request,
            "delete.html",
            user,
            status=409,
            owner=owner,
            segment=segment,
            error=exc.message,
        )
    return done(
        request,
        advertiser_url(advertiser_id, "/segments"),
        f"Segment {segment_id} “{name}” deleted.",
    )
