"""`/usersync-pixel`: ID-sync partners of a member (SPEC §1.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segpixel.api.deps import CallerDep, IdParam, IdsParam, PagingDep, page_for
from segpixel.api.envelope import ok
from segpixel.api.listing import one, page_of
from segpixel.api.owners import one_of, resolve_member
from segpixel.api.schemas import UsersyncBody
from segpixel.catalog.usersync import UsersyncRepo, usersync_out
from segpixel.domain.errors import ValidationFailed, field_error
from segpixel.domain.paging import parse_id_list

router = APIRouter(tags=["usersync-pixel"])
KEY = "usersync-pixel"
RequiredId = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/usersync-pixel", summary="Read usersync pixels")
def read_usersync_pixels(
    caller: CallerDep, paging: PagingDep, id: IdsParam = None, member_id: IdParam = None
) -> dict[str, Any]:
    page = page_for(paging, UsersyncRepo)
    with caller.repo(UsersyncRepo) as repo:
        ids = parse_id_list("id", id) if id else None
        if ids and len(ids) == 1:
            return one(KEY, repo.get(ids[0]), usersync_out)
        stmt = repo.query(ids=ids, member_id=member_id)
        return page_of(repo, stmt, page, "usersync-pixels", usersync_out)


@router.post("/usersync-pixel", summary="Create a usersync pixel (admin)")
def create_usersync_pixel(
    caller: CallerDep, body: UsersyncBody, member_id: IdParam = None
) -> dict[str, Any]:
    fields = body.usersync_pixel.model_dump(exclude_unset=True)
    member = resolve_member(
        caller.principal, one_of("member_id", member_id, fields.pop("member_id", None))
    )
    with caller.repo(UsersyncRepo) as repo:
        return one(KEY, repo.create(member, fields), usersync_out)


@router.put("/usersync-pixel", summary="Change a usersync pixel (admin)")
def update_usersync_pixel(caller: CallerDep, body: UsersyncBody, id: RequiredId) -> dict[str, Any]:
    fields = body.usersync_pixel.model_dump(exclude_unset=True)
    with caller.repo(UsersyncRepo) as repo:
        row = repo.get(id)
        if fields.pop("member_id", row.member_id) != row.member_id:
            raise ValidationFailed([field_error("member_id", "cannot be changed")])
        return one(KEY, repo.update(row, fields), usersync_out)


@router.delete("/usersync-pixel", summary="Delete a usersync pixel (admin)")
def delete_usersync_pixel(caller: CallerDep, id: RequiredId) -> dict[str, Any]:
    with caller.repo(UsersyncRepo) as repo:
        repo.delete(repo.get(id))
        return ok({"id": id})
