"""`/advertiser` (SPEC §1.1, §2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep
from segpixel.api.owners import resolve_member
from segpixel.api.params import FieldsParam, SearchParam, single_id
from segpixel.api.resources import Owned, plain
from segpixel.api.schemas import AdvertiserBody
from segpixel.api.service_fields import ADVERTISER as FIELDS
from segpixel.api.writes import Item
from segpixel.catalog.advertisers import AdvertiserRepo, advertiser_out
from segpixel.catalog.tables import Advertiser

router = APIRouter(tags=["advertiser"])
ADVERTISER = Owned(FIELDS, AdvertiserRepo, plain(advertiser_out), owner="member_id")
CodeParam = Annotated[str | None, Query(max_length=50)]


@router.get("/advertiser", summary="Read advertisers, with the reference's filters")
def read_advertisers(
    caller: CallerDep,
    request: Request,
    paging: PagingDep,
    id: IdsParam = None,
    code: CodeParam = None,
    search: SearchParam = None,
    fields: FieldsParam = None,
) -> dict[str, Any]:
    member = single_id(request.query_params.get("member_id"))

    def by_code(repo: AdvertiserRepo) -> Advertiser | None:
        """`?code=C` names one advertiser of the member (given, or the caller's)."""
        owner = member or caller.principal.member_id
        return repo.by_code(owner, code) if code is not None and owner is not None else None

    return ADVERTISER.read(caller, request, paging, one=by_code)


@router.post("/advertiser", summary="Create advertisers")
def create_advertiser(
    caller: CallerDep, body: AdvertiserBody, member_id: IdParam = None
) -> dict[str, Any]:
    return ADVERTISER.create(caller, body, None, member_id)


@router.put("/advertiser", summary="Change advertisers: fields not sent stay")
def update_advertiser(
    caller: CallerDep,
    body: AdvertiserBody,
    id: IdParam = None,
    code: CodeParam = None,
    member_id: IdParam = None,
) -> dict[str, Any]:
    def update(repo: AdvertiserRepo, item: Item) -> Advertiser:
        if code is not None and id is None and item.id is None:  # `?code=C&member_id=M`
            row = repo.by_code(resolve_member(caller.principal, member_id), code)
        else:
            row = ADVERTISER.target(repo, item, id)
        return repo.update(row, item.fields)

    return ADVERTISER.write(caller, body, update)


@router.delete(
    "/advertiser",
    summary="Delete advertisers that have no segments or users: ?id=1,2,3 (all or nothing)",
)
def delete_advertiser(
    caller: CallerDep, id: IdsParam = None, code: CodeParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    def by_code(repo: AdvertiserRepo) -> Advertiser:
        return repo.by_code(resolve_member(caller.principal, member_id), code or "")

    return ADVERTISER.delete(caller, id, by_code if code is not None and id is None else None)
