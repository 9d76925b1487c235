"""`/segment`: the Segment Service (SPEC §2) — every read and write form of the reference.

Every answer that holds segments adds their quick stats (api/quick_stats.py), so a segment has
the same fields whichever verb returned it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.api.listing import one, page_of
from segpixel.api.owners import one_of, resolve_member
from segpixel.api.quick_stats import with_quick_stats
from segpixel.api.schemas import SegmentBody
from segpixel.catalog.advertisers import AdvertiserRepo
from segpixel.catalog.segments import SegmentRepo, segment_out
from segpixel.catalog.tables import Segment
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.paging import parse_id_list

router = APIRouter(tags=["segment"])
CodeParam = Annotated[str | None, Query(max_length=50, description="Segment code (case-sensitive)")]


@router.get(
    "/segment",
    summary="Read segments: all you may see, by id(s), code, advertiser or search; each with its "
    "quick stats (active_users_24h, daily_loads)",
)
def read_segments(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    code: CodeParam = None,
    member_id: IdParam = None,
    advertiser_id: IdParam = None,
    advertiser_code: Annotated[str | None, Query(max_length=50)] = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    page = page_for(paging, SegmentRepo)
    with caller.repo(SegmentRepo) as repo:
        ids = parse_id_list("id", id) if id else None
        if ids and len(ids) == 1:
            return with_quick_stats(caller, one("segment", repo.get(ids[0]), segment_out))
        member = member_id or (caller.principal.member_id if code or advertiser_code else None)
        if code is not None and member is not None:
            answer = one("segment", repo.by_code(member, code), segment_out)
            return with_quick_stats(caller, answer)
        if advertiser_code is not None:
            advertiser_id = _advertiser_by_code(repo, member, advertiser_code)
        stmt = repo.query(
            ids=ids, code=code, member_id=member_id, advertiser_id=advertiser_id, search=search
        )
        return with_quick_stats(caller, page_of(repo, stmt, page, "segments", segment_out))


@router.post("/segment", summary="Create a segment (member level, or advertiser level)")
def create_segment(
    caller: CallerDep,
    body: SegmentBody,
    member_id: IdParam = None,
    advertiser_id: IdParam = None,
    advertiser_code: Annotated[str | None, Query(max_length=50)] = None,
) -> dict[str, Any]:
    fields = body.segment.model_dump(exclude_unset=True)
    # `"advertiser_id": null` asks for member level: never defaulted to the caller's advertiser
    member_level = "advertiser_id" in fields and fields["advertiser_id"] is None
    with caller.repo(SegmentRepo) as repo:
        advertiser = one_of("advertiser_id", advertiser_id, fields.pop("advertiser_id", None))
        member = one_of("member_id", member_id, fields.pop("member_id", None))
        if advertiser_code is not None:
            advertiser = _advertiser_by_code(
                repo, member or caller.principal.member_id, advertiser_code
            )
        if advertiser is None and caller.principal.role == "advertiser" and not member_level:
            advertiser = caller.principal.advertiser_id
        if member is None and advertiser is not None:
            member = AdvertiserRepo(repo.session, repo.principal).get(advertiser).member_id
        row = repo.create(resolve_member(caller.principal, member), advertiser, fields)
        return with_quick_stats(caller, one("segment", row, segment_out))


@router.put(
    "/segment", summary="Change a segment: fields not sent stay; append=true adds to arrays"
)
def update_segment(
    caller: CallerDep,
    body: SegmentBody,
    id: IdParam = None,
    code: CodeParam = None,
    member_id: IdParam = None,
    append: bool = False,
) -> dict[str, Any]:
    with caller.repo(SegmentRepo) as repo:
        row = _target(repo, caller, id, code, member_id)
        row = repo.update(row, body.segment.model_dump(exclude_unset=True), append=append)
        return with_quick_stats(caller, one("segment", row, segment_out))


@router.delete("/segment", summary="Delete a segment")
def delete_segment(
    caller: CallerDep, id: IdParam = None, code: CodeParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    with caller.repo(SegmentRepo) as repo:
        row = _target(repo, caller, id, code, member_id)
        row_id = row.id
        repo.delete(row)
        return ok({"id": row_id})


def _target(
    repo: SegmentRepo, caller: CallerDep, id: int | None, code: str | None, member_id: int | None
) -> Segment:
    """`?id=N`, or `?code=C&member_id=M` (the member may be implied by the caller)."""
    if id is not None:
        return repo.get(id)
    if code is not None:
        return repo.by_code(resolve_member(caller.principal, member_id), code)
    raise ValidationFailed([field_error("id", "is required (or code with member_id)")])


def _advertiser_by_code(repo: SegmentRepo, member_id: int | None, code: str) -> int:
    if member_id is None:
        raise ValidationFailed([field_error("member_id", "is required with advertiser_code")])
    return AdvertiserRepo(repo.session, repo.principal).by_code(member_id, code).id
