"""Bidder-facing reads (SPEC §7): a user's segments, a profile evaluated for a user, and OpenRTB
user data. Authenticated; a caller reads only segments it may see, of a member it belongs to.
Profiles come through the process's short-lived cache (api/profile_cache.py); the catalog from
the worker's in-memory snapshot, never a query per call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from segpixel.api.bidder_auth import BidderCallerDep as CallerDep
from segpixel.api.deps import Caller, IdParam, UserIdParam
from segpixel.api.envelope import ok
from segpixel.api.owners import resolve_member
from segpixel.api.profile_cache import ProfileCache, profile_cache
from segpixel.api.schemas import EvaluateBody
from segpixel.catalog.line_items import LineItemRepo
from segpixel.domain.catalog_view import CatalogView, MemberView, SegmentView
from segpixel.domain.errors import ValidationFailed, field_error, raise_if_any
from segpixel.domain.openrtb import bid_request_user_id, with_user_data
from segpixel.domain.profile import Membership, Profile
from segpixel.domain.targeting import Targeting, explain, user_state
from segpixel.domain.targeting_rules import (
    SegmentFacts,
    bind_segments,
    parse_targeting,
    segment_refs,
)
from segpixel.domain.user_ids import USER_ID_RULE, parse_user_id
from segpixel.errors import Forbidden, NotFound, StoreUnavailable

router = APIRouter(tags=["bidder"])
ProfilesDep = Annotated[ProfileCache, Depends(profile_cache)]


def _view(caller: Caller) -> CatalogView:
    if caller.state.runtime is None:
        raise StoreUnavailable("this server has no profile store")
    return caller.state.runtime.snapshot.current


def _member(caller: Caller, member_id: int | None, view: CatalogView) -> MemberView:
    member_id = resolve_member(caller.principal, member_id)
    if not caller.principal.sees_member(member_id):
        raise Forbidden(f"you may not read the data of member {member_id}")
    member = view.members.get(member_id)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


def _visible(
    caller: Caller, profile: Profile, view: CatalogView, member_id: int, now: float
) -> list[tuple[Membership, SegmentView]]:
    """The user's active memberships in the member's segments that the caller may see."""
    found = []
    for m in sorted(profile.active(now), key=lambda m: m.segment_id):
        segment = view.segment(m.segment_id)
        if (
            segment is not None
            and segment.member_id == member_id
            and caller.principal.sees_segment(segment.member_id, segment.advertiser_id)
        ):
            found.append((m, segment))
    return found


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/user/segments", summary="A user's active segments of one member")
async def user_segments(
    caller: CallerDep, profiles: ProfilesDep, id: UserIdParam, member_id: IdParam = None
) -> dict[str, Any]:
    view = _view(caller)
    member = _member(caller, member_id, view)
    found = _visible(caller, await profiles.read(id), view, member.id, caller.state.clock())
    segments = [
        {
            "id": m.segment_id,
            "code": segment.code,
            "value": m.value,
            "first_added": _iso(m.first_added),
            "last_added": _iso(m.last_added),
            "expires_at": _iso(m.expires_at),
            "count": m.count,
        }
        for m, segment in found
    ]
    payload = {"user_id": str(id), "member_id": member.id, "segments": segments}
    return ok(payload, count=len(segments))


@router.post("/targeting/evaluate", summary="Does a profile match a user, and why")
async def evaluate_targeting(
    caller: CallerDep,
    profiles: ProfilesDep,
    body: EvaluateBody,
    member_id: IdParam = None,  # whose segment codes an inline profile names
) -> dict[str, Any]:
    view = _view(caller)
    user_id = parse_user_id(body.user_id)
    if user_id is None:
        raise ValidationFailed([field_error("user_id", f"{USER_ID_RULE} (got {body.user_id!r})")])
    if (body.profile is None) == (body.line_item_id is None):
        raise ValidationFailed(
            [field_error("profile", "or line_item_id is required (one of them)")]
        )
    if body.line_item_id is not None:
        with caller.repo(LineItemRepo) as repo:  # scoped: another advertiser's is not found
            targeting = parse_targeting(repo.get(body.line_item_id).profile)
    else:
        targeting = _bound(caller, view, parse_targeting(body.profile), member_id)
    raise_if_any(
        [
            field_error(path, f"must be a segment you can see (segment {sid} not found)")
            for path, sid in segment_refs(targeting)
            if (s := view.segment(sid)) is None
            or not caller.principal.sees_segment(s.member_id, s.advertiser_id)
        ]
    )
    now = int(caller.state.clock())
    result = explain(targeting, user_state(await profiles.read(user_id), now))
    decided = result.decided_by
    return ok(
        {
            "user_id": str(user_id),
            "match": result.matched,
            "reason": result.summary,
            "decided_by": None if decided is None else _item_json(decided),
            "items": [_item_json(item) for item in result.items],
        }
    )


def _bound(
    caller: Caller, view: CatalogView, targeting: Targeting, member_id: int | None
) -> Targeting:
    """Codes resolved in the member's segments (the caller's, or ?member_id=)."""

    def facts(segment: SegmentView | None) -> SegmentFacts | None:
        return None if segment is None else SegmentFacts(segment.id, segment.text_values)

    member = member_id if member_id is not None else caller.principal.member_id

    def by_code(code: str) -> SegmentFacts | None:
        if member is None:
            raise ValidationFailed(
                [field_error("member_id", "is required to name segments by code (?member_id=)")]
            )
        return facts(view.segment_by_code(member, code))

    return bind_segments(targeting, lambda sid: facts(view.segment(sid)), by_code)


def _item_json(item: Any) -> dict[str, Any]:
    return {
        "group": item.group,
        "index": item.index,
        "segment_id": item.segment_id,
        "action": item.action,
        "matched": item.matched,
        "reason": item.reason,
    }


@router.post(
    "/openrtb/user-data",
    summary="An OpenRTB 2.6 bid request back with user.data extended by our member's segments",
)
async def openrtb_user_data(
    caller: CallerDep,
    profiles: ProfilesDep,
    bid_request: Annotated[dict[str, Any], Body(description="An OpenRTB 2.6 BidRequest")],
    member_id: IdParam = None,
) -> dict[str, Any]:
    view = _view(caller)
    member = _member(caller, member_id, view)
    user_id = bid_request_user_id(bid_request)
    if user_id is None:
        raise ValidationFailed(
            [
                field_error(
                    "user.id",
                    "(or user.buyeruid) must hold our user id, a whole number as a string",
                )
            ]
        )
    found = _visible(caller, await profiles.read(user_id), view, member.id, caller.state.clock())
    segments = [(m.segment_id, m.value) for m, _ in found]
    return with_user_data(bid_request, member.id, member.name, segments)
