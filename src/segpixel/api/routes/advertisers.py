"""`/advertiser` (SPEC §1.1, §2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.api.listing import one, page_of
from segpixel.api.owners import one_of, resolve_member
from segpixel.api.schemas import AdvertiserBody
from segpixel.catalog.advertisers import AdvertiserRepo, advertiser_out
from segpixel.catalog.tables import Advertiser
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.paging import parse_id_list

router = APIRouter(tags=["advertiser"])
CodeParam = Annotated[str | None, Query(max_length=50)]


@router.get("/advertiser", summary="Read advertisers")
def read_advertisers(
    caller: CallerDep,
    paging: PagingDep,
    id: IdsParam = None,
    code: CodeParam = None,
    member_id: IdParam = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    page = page_for(paging, AdvertiserRepo)
    with caller.repo(AdvertiserRepo) as repo:
        ids = parse_id_list("id", id) if id else None
        if ids and len(ids) == 1:
            return one("advertiser", repo.get(ids[0]), advertiser_out)
        member = member_id or caller.principal.member_id
        if code is not None and member is not None:
            return one("advertiser", repo.by_code(member, code), advertiser_out)
        stmt = repo.query(ids=ids, code=code, member_id=member_id, search=search)
        return page_of(repo, stmt, page, "advertisers", advertiser_out)


@router.post("/advertiser", summary="Create an advertiser")
def create_advertiser(
    caller: CallerDep, body: AdvertiserBody, member_id: IdParam = None
) -> dict[str, Any]:
    fields = body.advertiser.model_dump(exclude_unset=True)
    member = resolve_member(
        caller.principal, one_of("member_id", member_id, fields.pop("member_id", None))
    )
    with caller.repo(AdvertiserRepo) as repo:
        return one("advertiser", repo.create(member, fields), advertiser_out)


@router.put("/advertiser", summary="Change an advertiser")
def update_advertiser(
    caller: CallerDep,
    body: AdvertiserBody,
    id: IdParam = None,
    code: CodeParam = None,
    member_id: IdParam = None,
) -> dict[str, Any]:
    fields = body.advertiser.model_dump(exclude_unset=True)
    with caller.repo(AdvertiserRepo) as repo:
        row = _target(repo, caller, id, code, member_id)
        if fields.pop("member_id", row.member_id) != row.member_id:
            raise ValidationFailed([field_error("member_id", "cannot be changed")])
        return one("advertiser", repo.update(row, fields), advertiser_out)


@router.delete("/advertiser", summary="Delete an advertiser that has no segments or users")
def delete_advertiser(
    caller: CallerDep, id: IdParam = None, code: CodeParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    with caller.repo(AdvertiserRepo) as repo:
        row = _target(repo, caller, id, code, member_id)
        row_id = row.id
        repo.delete(row)
        return ok({"id": row_id})


def _target(
    repo: AdvertiserRepo, caller: CallerDep, id: int | None, code: str | None, member_id: int | None
) -> Advertiser:
    if id is not None:
        return repo.get(id)
    if code is not None:
        return repo.by_code(resolve_member(caller.principal, member_id), code)
    raise ValidationFailed([field_error("id", "is required (or code with member_id)")])
