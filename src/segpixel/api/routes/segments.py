"""`/segment`: the Segment Service (SPEC §2) — every read and write form of the reference.

Every answer that holds segments adds their quick stats (api/quick_stats.py), so a segment has
the same fields whichever verb returned it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.owners import one_of, resolve_member
from segpixel.api.params import FieldsParam, SearchParam, single_id
from segpixel.api.quick_stats import with_quick_stats
from segpixel.api.resources import Service, plain
from segpixel.api.schemas import SegmentBody
from segpixel.api.service_fields import SEGMENT as FIELDS
from segpixel.api.writes import Item
from segpixel.catalog.advertisers import AdvertiserRepo
from segpixel.catalog.segments import SegmentRepo, segment_out
from segpixel.catalog.tables import Segment
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.filters import Filter

router = APIRouter(tags=["segment"])
SEGMENT = Service(
    FIELDS,
    SegmentRepo,
    plain(segment_out),
    params=frozenset({"search", "advertiser_code", "include_shared"}),
    enrich=with_quick_stats,
)
CodeParam = Annotated[str | None, Query(max_length=50, description="Segment code (case-sensitive)")]
AdvertiserCode = Annotated[str | None, Query(max_length=50)]
Shared = Annotated[
    str | None, Query(description="Accepted for the reference's scripts: no segment is shared")
]


@router.get(
    "/segment",
    summary="Read segments: all you may see, by id(s), code, advertiser or search, with the "
    "reference's filters; each with its quick stats (active_users_24h, daily_loads)",
)
def read_segments(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    code: CodeParam = None,
    advertiser_code: AdvertiserCode = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
    include_shared: Shared = None,
) -> dict[str, Any]:
    member = single_id(request.query_params.get("member_id")) or caller.principal.member_id

    def by_code(repo: SegmentRepo) -> Segment | None:
        """`?code=C` names one segment of the member (given, or the caller's)."""
        return repo.by_code(member, code) if code is not None and member is not None else None

    def of_advertiser(repo: SegmentRepo) -> list[Filter]:
        if advertiser_code is None:
            return []
        return [
            Filter("advertiser_id", "in", (_advertiser_by_code(repo, member, advertiser_code),))
        ]

    return SEGMENT.read(caller, request, paging, one=by_code, extra=of_advertiser)


@router.post("/segment", summary="Create segments (member level, or advertiser level)")
def create_segment(
    caller: CallerDep,
    body: SegmentBody,
    member_id: IdParam = None,
    advertiser_id: IdParam = None,
    advertiser_code: AdvertiserCode = None,
) -> dict[str, Any]:
    def create(repo: SegmentRepo, item: Item) -> Segment:
        fields = dict(item.fields)
        # `"advertiser_id": null` asks for member level: never defaulted to the caller's advertiser
        member_level = "advertiser_id" in fields and fields["advertiser_id"] is None
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
        return repo.create(resolve_member(caller.principal, member), advertiser, fields)

    return SEGMENT.write(caller, body, create, creating=True)


@router.put(
    "/segment",
    summary="Change segments: fields not sent stay; append=true adds to arrays; a bulk body "
    "names each segment by its id",
)
def update_segment(
    caller: CallerDep,
    body: SegmentBody,
    id: IdParam = None,
    code: CodeParam = None,
    member_id: IdParam = None,
    append: bool = False,
) -> dict[str, Any]:
    def update(repo: SegmentRepo, item: Item) -> Segment:
        if code is not None and id is None and item.id is None:  # `?code=C&member_id=M`
            row = repo.by_code(resolve_member(caller.principal, member_id), code)
        else:
            row = SEGMENT.target(repo, item, id)
        return repo.update(row, item.fields, append=append)

    return SEGMENT.write(caller, body, update)


@router.delete("/segment", summary="Delete segments: ?id=1,2,3 (all or nothing), or ?code=")
def delete_segment(
    caller: CallerDep, id: IdsParam = None, code: CodeParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    def by_code(repo: SegmentRepo) -> Segment:
        return repo.by_code(resolve_member(caller.principal, member_id), code or "")

    return SEGMENT.delete(caller, id, by_code if code is not None and id is None else None)


def _advertiser_by_code(repo: SegmentRepo, member_id: int | None, code: str) -> int:
    if member_id is None:
        raise ValidationFailed([field_error("member_id", "is required with advertiser_code")])
    return AdvertiserRepo(repo.session, repo.principal).by_code(member_id, code).id
