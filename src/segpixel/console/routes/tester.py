"""The pixel tester: fire a segment's pixel from this browser, and see this browser's segments.

The page's script calls the pixel server itself (same origin): `/seg?…&debug=1` for the account
of what the call did (SPEC §3.6), and `/cookie?member_id&dongle` for the browser's segments of the
member. The dongle is the member's secret, so only users who manage the member get that URL; an
advertiser user reads its browser's segments through `browser_segments` below, which shows only
the segments that user may see.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from segpixel.console import data
from segpixel.console.deps import ConsoleUser, UserDep
from segpixel.console.render import page
from segpixel.console.urls import advertiser_url
from segpixel.domain.user_ids import parse_user_id

router = APIRouter()


@router.get("/advertisers/{advertiser_id:int}/tester")
def tester(
    request: Request,
    user: UserDep,
    advertiser_id: int,
    segment: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    with user.session() as session:
        owner = data.owner(session, user.principal, advertiser_id)
        segments = data.all_segments(session, user.principal, owner)
    member = owner.member
    if user.principal.manages_member(member.id):
        segments_url = f"/cookie?member_id={member.id}&dongle={member.dongle}"
    else:
        segments_url = advertiser_url(advertiser_id, "/tester/browser-segments")
    return page(
        request,
        "tester.html",
        user,
        owner=owner,
        segments=segments,
        chosen=segment,
        segments_url=segments_url,
        names={str(s.id): s.short_name for s in segments},
    )


@router.get("/advertisers/{advertiser_id:int}/tester/browser-segments")
async def browser_segments(request: Request, user: UserDep, advertiser_id: int) -> Response:
    """This browser's segments of the advertiser's member that the user may see (as /cookie)."""
    owner = await run_in_threadpool(_owner, user, advertiser_id)  # the catalog is sync
    runtime = user.state.runtime
    if runtime is None:
        return JSONResponse({"error": "this server does not serve pixels"}, status_code=503)
    raw = request.cookies.get(user.state.settings.cookie_name, "")
    user_id = parse_user_id(raw)
    now = runtime.clock()
    found: list[dict[str, Any]] = []
    profile = await runtime.read_profile(user_id) if user_id else None
    view = await runtime.fresh_view()
    for m in profile.active(now) if profile else ():
        s = view.segment(m.segment_id)
        if (
            s is not None
            and s.member_id == owner.member.id
            and user.principal.sees_segment(s.member_id, s.advertiser_id)
        ):
            found.append(
                {
                    "id": m.segment_id,
                    "code": s.code,
                    "value": m.value,
                    "first_added": _iso(m.first_added),
                    "last_added": _iso(m.last_added),
                    "expires_at": _iso(m.expires_at),
                    "count": m.count,
                }
            )
    return JSONResponse(
        {
            "user_id": str(user_id) if user_id else None,
            "opted_out": raw == "-1",
            "member_id": owner.member.id,
            "segments": found,
        }
    )


def _owner(user: ConsoleUser, advertiser_id: int) -> data.Owner:
    with user.session() as session:
        return data.owner(session, user.principal, advertiser_id)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
